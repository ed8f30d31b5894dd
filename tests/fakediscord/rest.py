"""REST routes for the bot token: login, application commands, channels, messages, threads."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .models import MANAGE_MESSAGES, FakeMessage, Json, RecordedFile
from .state import ApiError, World, form_error

log = logging.getLogger(__name__)


@dataclass
class Call:
    """One parsed API request handed to a route handler."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[RecordedFile] = field(default_factory=list)

    def body(self) -> Json:
        return self.json if isinstance(self.json, dict) else {}

    def int_param(self, name: str) -> int:
        return int(self.params[name])


Result = tuple[int, Any]  # (status, JSON body or None for 204)
Handler = Callable[[Call], Awaitable[Result]]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    bot_auth: bool  # needs ``Authorization: Bot <token>``


_NAME = re.compile(r"^[-_'\w]{1,32}$")


def route(method: str, path: str, handler: Handler, *, bot_auth: bool = True) -> Route:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{regex}$"), handler, bot_auth)


class RestApi:
    """Bot-authenticated REST routes."""

    def __init__(self, world: World, *, gateway_url: Callable[[], str]) -> None:
        self.world = world
        self.gateway_url = gateway_url

    def routes(self) -> list[Route]:
        return [
            route("GET", "/users/@me", self.get_me),
            route("POST", "/users/@me/channels", self.open_dm),
            route("GET", "/oauth2/applications/@me", self.get_application),
            route("GET", "/applications/@me", self.get_application),
            route("GET", "/gateway", self.get_gateway, bot_auth=False),
            route("GET", "/gateway/bot", self.get_gateway_bot),
            route("GET", "/applications/{app}/commands", self.get_commands),
            route("PUT", "/applications/{app}/commands", self.put_commands),
            route("POST", "/applications/{app}/commands", self.post_command),
            route("GET", "/applications/{app}/guilds/{guild}/commands", self.get_commands),
            route("PUT", "/applications/{app}/guilds/{guild}/commands", self.put_commands),
            route("POST", "/applications/{app}/guilds/{guild}/commands", self.post_command),
            route("GET", "/guilds/{guild}", self.get_guild),
            route("GET", "/guilds/{guild}/channels", self.get_guild_channels),
            route("GET", "/guilds/{guild}/members/{user}", self.get_member),
            route("GET", "/channels/{channel}", self.get_channel),
            route("POST", "/channels/{channel}/typing", self.typing),
            route("GET", "/channels/{channel}/messages", self.list_messages),
            route("POST", "/channels/{channel}/messages", self.post_message),
            route("GET", "/channels/{channel}/messages/{message}", self.get_message),
            route("PATCH", "/channels/{channel}/messages/{message}", self.patch_message),
            route("DELETE", "/channels/{channel}/messages/{message}", self.delete_message),
            route("PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self.add_reaction),
            route("POST", "/channels/{channel}/threads", self.start_thread),
            route("POST", "/channels/{channel}/messages/{message}/threads", self.start_thread_from_message),
        ]

    # ---- login -----------------------------------------------------------------------------------
    async def get_me(self, call: Call) -> Result:
        me = self.world.bot_user.user_payload()
        me.update(verified=True, mfa_enabled=False, locale="en-US", bot=True)
        return 200, me

    async def get_application(self, call: Call) -> Result:
        w = self.world
        return 200, {
            "id": str(w.application_id),
            "name": w.bot_user.name,
            "description": "",
            "icon": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": w.owner.user_payload(),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
            "bot": w.bot_user.user_payload(),
            "interactions_endpoint_url": None,
            "approximate_guild_count": 1,
        }

    async def get_gateway(self, call: Call) -> Result:
        return 200, {"url": self.gateway_url()}

    async def get_gateway_bot(self, call: Call) -> Result:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return 200, {"url": self.gateway_url(), "shards": 1, "session_start_limit": limit}

    # ---- application commands --------------------------------------------------------------------
    def _scope(self, call: Call) -> int | None:
        if call.params["app"] != str(self.world.application_id):
            raise ApiError(403, 50001, "Missing Access")
        guild = call.params.get("guild")
        if guild is None:
            return None
        if guild != str(self.world.guild_id):
            raise ApiError(403, 50001, "Missing Access")
        return int(guild)

    def _validate_command(self, cmd: Json, index: int) -> None:
        name = str(cmd.get("name", ""))
        ctype = int(cmd.get("type", 1))
        if not _NAME.match(name) or (ctype == 1 and name != name.lower()):
            raise form_error(f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        if ctype == 1 and not 1 <= len(str(cmd.get("description", ""))) <= 100:
            raise form_error(f"{index}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        options = cmd.get("options") or []
        if len(options) > 25:
            raise form_error(f"{index}.options", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for o in options:
            for choice in o.get("choices") or []:
                if not 1 <= len(str(choice.get("name", ""))) <= 100:
                    raise form_error(f"{index}.options", "BASE_TYPE_BAD_LENGTH", "Choice name 1-100 chars.")

    def _stored_command(self, cmd: Json, guild_id: int | None, existing: list[Json]) -> Json:
        ctype = int(cmd.get("type", 1))
        old = next((c for c in existing if c["name"] == cmd["name"] and c["type"] == ctype), None)
        stored: Json = {
            "default_member_permissions": None,
            "contexts": None,
            "integration_types": [0],
            "nsfw": False,
            "options": [],
            "description": "",
            **cmd,
            "id": old["id"] if old else str(self.world.ids.next()),
            "application_id": str(self.world.application_id),
            "version": str(self.world.ids.next()),
            "type": ctype,
        }
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored

    async def get_commands(self, call: Call) -> Result:
        return 200, self.world.commands.get(self._scope(call), [])

    async def put_commands(self, call: Call) -> Result:
        scope = self._scope(call)
        if not isinstance(call.json, list):
            raise form_error("_root", "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
        if len(call.json) > 100:
            raise form_error("_root", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
        for i, cmd in enumerate(call.json):
            self._validate_command(cmd, i)
        existing = self.world.commands.get(scope, [])
        self.world.commands[scope] = [self._stored_command(c, scope, existing) for c in call.json]
        await self.world.notify()
        return 200, self.world.commands[scope]

    async def post_command(self, call: Call) -> Result:
        scope = self._scope(call)
        cmd = call.body()
        self._validate_command(cmd, 0)
        existing = self.world.commands.setdefault(scope, [])
        stored = self._stored_command(cmd, scope, existing)
        self.world.commands[scope] = [c for c in existing if c["id"] != stored["id"]] + [stored]
        await self.world.notify()
        return 201, stored

    # ---- guild -----------------------------------------------------------------------------------
    def _guild(self, call: Call) -> None:
        if call.params["guild"] != str(self.world.guild_id):
            raise ApiError(404, 10004, "Unknown Guild")

    async def get_guild(self, call: Call) -> Result:
        self._guild(call)
        payload = self.world.guild_payload()
        for key in ("members", "channels", "threads", "voice_states", "presences"):
            payload.pop(key, None)
        return 200, payload

    async def get_guild_channels(self, call: Call) -> Result:
        self._guild(call)
        return 200, [c.to_payload() for c in self.world.channels.values() if not c.is_thread]

    async def open_dm(self, call: Call) -> Result:
        user = self.world.users.get(int(call.body().get("recipient_id", 0)))
        if user is None:
            raise ApiError(400, 50007, "Cannot send messages to this user")
        return 200, self.world.open_dm(user).to_payload()

    async def get_member(self, call: Call) -> Result:
        self._guild(call)
        user = self.world.users.get(call.int_param("user"))
        if user is None:
            raise ApiError(404, 10007, "Unknown Member")
        return 200, user.member_payload()

    # ---- channels and messages -------------------------------------------------------------------
    async def get_channel(self, call: Call) -> Result:
        return 200, self.world.channel(call.int_param("channel")).to_payload()

    async def typing(self, call: Call) -> Result:
        self.world.channel(call.int_param("channel"))
        return 204, None

    async def list_messages(self, call: Call) -> Result:
        cid = call.int_param("channel")
        self.world.channel(cid)
        msgs = [m for m in self.world.visible_messages(cid) if not m.ephemeral]
        if "before" in call.query:
            msgs = [m for m in msgs if m.id < int(call.query["before"])]
        if "after" in call.query:
            msgs = [m for m in msgs if m.id > int(call.query["after"])]
        limit = min(100, int(call.query.get("limit", 50)))
        newest_first = list(reversed(msgs))
        if "after" in call.query:
            newest_first = list(reversed(msgs[:limit]))
        return 200, [self.world.message_payload(m) for m in newest_first[:limit]]

    def _message(self, call: Call) -> FakeMessage:
        msg = self.world.get_message(call.int_param("channel"), call.int_param("message"))
        if msg.ephemeral:
            raise ApiError(404, 10008, "Unknown Message")
        return msg

    async def get_message(self, call: Call) -> Result:
        return 200, self.world.message_payload(self._message(call))

    async def post_message(self, call: Call) -> Result:
        body = call.body()
        body = {**body, "flags": int(body.get("flags") or 0) & ~(1 << 6)}  # channel messages cannot be ephemeral
        msg = await self.world.create_message(call.int_param("channel"), self.world.bot_user, body, call.files)
        return 200, self.world.message_payload(msg)

    async def patch_message(self, call: Call) -> Result:
        msg = self._message(call)
        if msg.author.id != self.world.bot_user.id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        await self.world.edit_message(msg, call.body(), call.files)
        return 200, self.world.message_payload(msg)

    async def delete_message(self, call: Call) -> Result:
        msg = self._message(call)
        own = msg.author.id == self.world.bot_user.id
        if not own and not self.world.permissions_of(self.world.bot_user) & MANAGE_MESSAGES:
            raise ApiError(403, 50013, "Missing Permissions")
        await self.world.delete_message(msg)
        return 204, None

    async def add_reaction(self, call: Call) -> Result:
        self._message(call)
        return 204, None

    # ---- threads ---------------------------------------------------------------------------------
    async def _create_thread(self, parent_id: int, body: Json, *, thread_id: int | None) -> Json:
        w = self.world
        parent = w.channel(parent_id)
        if parent.is_thread:
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        name = str(body.get("name", ""))
        if not 1 <= len(name) <= 100:
            raise form_error("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        thread = w.add_channel(name, type=int(body.get("type") or 11), parent_id=parent_id, owner_id=w.bot_user.id)
        if thread_id is not None:  # a thread started from a message takes the message's id
            w.channels.pop(thread.id)
            w.messages_by_channel.pop(thread.id)
            thread.id = thread_id
            w.channels[thread.id] = thread
            w.messages_by_channel[thread.id] = []
        payload = thread.to_payload()
        payload["newly_created"] = True
        await w.emit("THREAD_CREATE", payload)
        await w.notify()
        return thread.to_payload()

    async def start_thread(self, call: Call) -> Result:
        return 201, await self._create_thread(call.int_param("channel"), call.body(), thread_id=None)

    async def start_thread_from_message(self, call: Call) -> Result:
        msg = self._message(call)
        if msg.thread_id is not None:
            raise ApiError(400, 160004, "A thread has already been created for this message")
        body = {**call.body(), "type": 11}
        payload = await self._create_thread(call.int_param("channel"), body, thread_id=msg.id)
        msg.thread_id = msg.id
        return 201, payload
