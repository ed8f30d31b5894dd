"""fakediscord — a wire-level Discord emulator for testing an unmodified discord.py client.

It is an aiohttp server on 127.0.0.1 (a free port) serving REST under ``/api/v10`` and the gateway
websocket at ``/gateway``. One guild, one bot, any number of fake users.

Quick start::

    from tests.fakediscord import FakeDiscord, running

    async with FakeDiscord() as fd:
        bot = commands.Bot(command_prefix="!", intents=discord.Intents.default(), guild_ready_timeout=0.05)
        ...  # define the app_commands tree; sync it in setup_hook
        async with running(bot, fd):          # patches Route.BASE + DEFAULT_GATEWAY, starts, waits on_ready
            alice = fd.add_user("alice")
            ix = await fd.slash(alice, "run", {"lesson": "hello"})   # waits for the callback
            await fd.wait_until(lambda: ix.original and "done" in ix.original.content)

Pointing discord.py here without the harness: ``discord.http.Route.BASE = fd.api_base`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fd.gateway_url)`` (class attributes read on
every request/connection; :func:`patched_endpoints` sets and restores them). Pass
``guild_ready_timeout=0.05`` to the client or ``on_ready`` comes 2 s after GUILD_CREATE. discord.py sleeps
5 s in ``Client.before_identify_hook`` before every re-IDENTIFY (after op 9): override it in a test bot.

Importing: ``tests/__init__.py`` exists, so a test module can ``from tests.fakediscord import …`` when pytest
puts the repo root on ``sys.path`` — i.e. when the test's own directory has an ``__init__.py`` too.

FakeDiscord(token=..., channel_messages=Limit(5, 5.0), webhooks=Limit(5, 2.0), response_deadline=3.0,
            heartbeat_interval_ms=41250)
    ``async with`` starts/stops it. Attributes: ``api_base``, ``gateway_url``, ``token`` (the only accepted
    bot token; others get 401, a bad IDENTIFY gets close 4004), ``application_id`` (== bot user id),
    ``bot_user``, ``guild`` (guild id), ``channel`` (default text channel id), ``admin_role``,
    ``requests`` (every API request, in order), ``world`` (all state), ``gateway`` (counters:
    ``connections``, ``identifies``, ``resumes``; ``received`` = every client payload).

World:
    ``add_user(name, *, admin=False, roles=(), locale="en-US") -> FakeUser`` — admin gets the "Admin" role
    (Manage Server, Manage Messages, Manage Channels, Manage Threads); ``roles`` are FakeRole or names.
    ``add_role(name, permissions) -> FakeRole``; ``add_channel(name) -> FakeChannel``;
    ``permissions_of(user) -> int``. The bot has a managed role (send, embed, attach, threads, manage
    messages); interactions carry ``app_permissions`` and ``member.permissions`` computed from roles.
    ``await say(user, content, channel_id=None)`` — a user posts a message (MESSAGE_CREATE; content is
    blanked without the message_content intent, as on Discord; a direct message keeps it and needs the
    direct_messages intent). ``world.open_dm(user) -> FakeChannel`` — the bot's direct message channel with
    ``user`` (what ``POST /users/@me/channels`` opens; a click there has no guild, the user instead of a
    member). ``world.remove_member(user)`` — the user leaves: ``GET /guilds/{g}/members/{u}`` answers 404.

Interactions (each dispatches INTERACTION_CREATE and, unless ``wait=False``, waits for the callback):
    ``await slash(user, name, options=None, *, subcommand=None, channel=None) -> FakeInteraction``
        ``subcommand`` is ``"sub"`` or ``"group sub"``. Options are checked against what the bot synced
        (LookupError if not synced; ValueError for unknown/missing-required/non-choice values;
        PermissionError if ``default_member_permissions`` hides the command from the user — ``force=True``
        to bypass). User/channel/role options take FakeUser/FakeChannel/FakeRole and fill ``resolved``.
    ``await autocomplete(user, name, options, *, focused, subcommand=None) -> list[choice dicts]``
    ``await click(user, message, custom_id, values=None) -> FakeInteraction`` (buttons and selects; the
        component must be on the message and not disabled)
    ``await submit_modal(user, opened_by, {custom_id: text}) -> FakeInteraction`` (``opened_by`` is the
        interaction the bot answered with a modal)
    ``expire_interaction(ix)`` — its token dies: webhook calls get 401 ``50027 Invalid Webhook Token``,
        the callback 404 ``10062 Unknown interaction``.

FakeInteraction: ``response`` ({"type", "data"} of the callback or None), ``response_type``, ``deferred``,
    ``original`` (FakeMessage, also after type 5/6/7), ``followups``, ``messages``, ``choices``
    (autocomplete), ``modal``, ``await wait_response(timeout)``.
    Discord rules enforced: callback within ``response_deadline`` s (else 10062), only once (else 40060),
    type allowed for the interaction type; the first follow-up after a "thinking" defer fills in the
    deferred message instead of creating a new one; ephemeral flag kept (``msg.ephemeral``).

Messages: ``messages(channel_id=None) -> list[FakeMessage]`` (oldest first, ephemeral included),
    ``message(id)``, ``threads(parent_id=None)``, ``commands(guild_id=None)`` (synced command JSON).
    FakeMessage: ``content``, ``embeds``, ``components``, ``attachments`` (FakeAttachment with ``data``
    bytes), ``flags``, ``ephemeral``, ``loading``, ``allowed_mentions`` (as sent), ``mentioned_user_ids()``
    (who would be pinged), ``history`` (earlier versions), ``edits``, ``deleted``, ``custom_ids()``,
    ``author``, ``interaction_id``, ``webhook_id``. Validation like Discord: content ≤ 2000 (50035),
    no empty message (50006), ≤ 10 embeds, attachment size limit (413/40005).

Unimplemented routes answer 404 ``{"code": 0}`` and log a warning naming the route.

Requests: ``requests`` / ``requests_matching(method, path_regex)`` → RecordedRequest(method, path without
    /api/v10, query, json (payload_json for multipart), files [RecordedFile(field, filename, data)], time
    (monotonic), status, response, authorized). ``await wait_until(predicate, timeout=10)``.

Rate limits: per-route buckets with ``X-RateLimit-Limit/Remaining/Reset/Reset-After/Bucket`` headers;
    channel message create and edit ``channel_messages`` per channel (5 per 5 s), webhook routes
    ``webhooks`` per token (5 per 2 s), 429 bodies ``{"message","retry_after","global"}`` with
    ``Retry-After`` and ``Via``.

Hooks: ``fail_next(method, path_regex, *, status=429|500|..., retry_after=0.2, is_global=False, times=1)``;
    ``await drop_gateway(hold=False)`` (close code 4000 → the client RESUMEs and missed dispatches are
    replayed; ``hold=True`` parks reconnects until ``release_gateway()``); ``await wait_resumed()``;
    ``await reconnect_gateway()`` (op 7); ``await invalidate_session(resumable=False)`` (op 9);
    ``await dispatch(event, data)`` (any raw dispatch).
"""

from .harness import patched_endpoints, running
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeInteraction,
    FakeMessage,
    FakeRole,
    FakeUser,
    RecordedFile,
    RecordedRequest,
)
from .ratelimit import Limit
from .server import FakeDiscord
from .state import ApiError

__all__ = [
    "ApiError",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeInteraction",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "Limit",
    "RecordedFile",
    "RecordedRequest",
    "patched_endpoints",
    "running",
]
