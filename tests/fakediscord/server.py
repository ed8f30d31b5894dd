"""FakeDiscord: the aiohttp server, the request pipeline (record, auth, failures, rate limits) and the test API."""

# ruff: noqa: ASYNC109  (``timeout=`` parameters are part of the documented test API)

from __future__ import annotations

import json
import logging
import math
import re
import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, web
from multidict import CIMultiDict

from .actions import UserActions
from .gateway import Gateway, GatewayHooks, Session
from .interactions import Interactions
from .models import FakeChannel, FakeInteraction, FakeMessage, FakeRole, FakeUser, Json, RecordedFile, RecordedRequest
from .ratelimit import Failure, FailureInjector, Limit, RateLimiter, default_rules
from .rest import Call, RestApi, Route
from .state import ApiError, World

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
JSON_TYPE = "application/json"
CHANNEL_MESSAGES = Limit(5, 5.0)  # per channel, like Discord
WEBHOOKS = Limit(5, 2.0)  # per interaction token


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly ``application/json`` (discord.py compares it verbatim)."""
    hdrs = CIMultiDict(headers or {})
    if body is None:
        return web.Response(status=status, headers=hdrs)
    hdrs["Content-Type"] = JSON_TYPE
    return web.Response(status=status, body=json.dumps(body).encode(), headers=hdrs)


class FakeDiscord(UserActions):
    """A wire-level Discord emulator; see the package docstring for the test API."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token.corobot.0123456789",
        channel_messages: Limit = CHANNEL_MESSAGES,
        webhooks: Limit = WEBHOOKS,
        response_deadline: float | None = 3.0,
        heartbeat_interval_ms: int = 41250,
    ) -> None:
        self.token = token
        self.world = World()
        self.limiter = RateLimiter(default_rules(channel_messages, webhooks))
        self.failures = FailureInjector()
        self.requests: list[RecordedRequest] = []
        self.interactions = Interactions(self.world, response_deadline=response_deadline)
        self.rest = RestApi(self.world, gateway_url=lambda: self.gateway_url)
        self.gateway = Gateway(
            GatewayHooks(
                token=lambda: self.token,
                ready_payload=self._ready_payload,
                guild_payloads=lambda: [self.world.guild_payload()],
                members_chunk=self._members_chunk,
                resume_url=lambda: self.gateway_url,
            ),
            heartbeat_interval_ms=heartbeat_interval_ms,
        )
        self.world.dispatch = self._dispatch
        self._routes: list[Route] = self.rest.routes() + self.interactions.routes()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/", self.gateway.handle)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._handle_attachment)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock)
        await site.start()
        self.world.attachment_base = f"http://127.0.0.1:{self.port}"
        log.info("fakediscord listening on %s", self.api_base)

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- addresses and identities ----------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    @property
    def application_id(self) -> int:
        return self.world.application_id

    @property
    def bot_user(self) -> FakeUser:
        return self.world.bot_user

    @property
    def guild(self) -> int:
        return self.world.guild_id

    @property
    def channel(self) -> int:
        return self.world.default_channel.id

    @property
    def admin_role(self) -> FakeRole:
        return self.world.admin_role

    # ---- gateway glue ----------------------------------------------------------------------------
    def _ready_payload(self, session: Session) -> Json:
        w = self.world
        w.intents = session.intents
        user = w.bot_user.user_payload()
        user.update(verified=True, mfa_enabled=False, bot=True)
        return {
            "v": 10,
            "user": user,
            "guilds": [{"id": str(w.guild_id), "unavailable": True}],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": {"id": str(w.application_id), "flags": 0},
            "user_settings": {},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
        }

    def _members_chunk(self, request: Json) -> Json:
        members = [u.member_payload() for u in self.world.users.values()]
        chunk: Json = {"guild_id": str(self.guild), "members": members, "chunk_index": 0, "chunk_count": 1}
        if request.get("nonce"):
            chunk["nonce"] = request["nonce"]
        return chunk

    async def _dispatch(self, event: str, data: Json) -> int:
        intents = self.world.intents
        direct = event.startswith("MESSAGE_") and "guild_id" not in data
        if event.startswith("MESSAGE_") and not intents & (1 << (12 if direct else 9)):  # DIRECT_/GUILD_MESSAGES
            return 0
        if event.startswith("GUILD_MEMBER_") and not intents & (1 << 1):
            return 0
        return await self.gateway.dispatch(event, data)

    # ---- request pipeline ------------------------------------------------------------------------
    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile]]:
        files: list[RecordedFile] = []
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            payload: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: Discord does not use it
                data = await part.read(decode=False)
                name = part.name or ""
                if name == "payload_json":
                    payload = json.loads(data)
                else:
                    ptype = part.headers.get("Content-Type")
                    files.append(
                        RecordedFile(field=name, filename=part.filename or name, content_type=ptype, data=bytes(data))
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self._routes:
            if r.method != method:
                continue
            m = r.pattern.match(path)
            if m is not None:
                return r, m.groupdict()
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        path = "/" + request.match_info["tail"]
        body, files = await self._read_body(request)
        authorized = request.headers.get("Authorization") == f"Bot {self.token}"
        rec = RecordedRequest(
            method=method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            time=time.monotonic(),
            authorized=authorized,
        )
        self.requests.append(rec)
        response = await self._respond(rec, method, path, body, files, authorized)
        rec.status = response.status
        await self.world.notify()
        return response

    async def _respond(
        self, rec: RecordedRequest, method: str, path: str, body: Any, files: list[RecordedFile], authorized: bool
    ) -> web.Response:
        matched = self._match(method, path)
        if matched is None:
            log.warning("fakediscord: no route for %s %s (the emulator does not implement it)", method, path)
            rec.response = {"message": "404: Not Found", "code": 0}
            return _json_response(404, rec.response)
        r, params = matched
        if r.bot_auth and not authorized:
            rec.response = {"message": "401: Unauthorized", "code": 0}
            return _json_response(401, rec.response)
        failure = self.failures.take(method, path)
        if failure is not None:
            return self._failure_response(rec, failure)
        decision = self.limiter.check(method, path)
        if not decision.allowed:
            rec.response = {
                "message": "You are being rate limited.",
                "retry_after": decision.retry_after,
                "global": False,
            }
            headers = {**decision.headers, "Retry-After": str(math.ceil(decision.retry_after)), "Via": "1.1 google"}
            return _json_response(429, rec.response, headers)
        call = Call(method=method, path=path, params=params, query=dict(rec.query), json=body, files=files)
        try:
            status, out = await r.handler(call)
        except ApiError as e:
            rec.response = e.body()
            return _json_response(e.status, rec.response, decision.headers)
        rec.response = out
        return _json_response(status, out, decision.headers)

    def _failure_response(self, rec: RecordedRequest, failure: Failure) -> web.Response:
        if failure.status == 429:
            rec.response = failure.body or {
                "message": "You are being rate limited.",
                "retry_after": failure.retry_after,
                "global": failure.is_global,
            }
            headers = {
                "Retry-After": str(max(1, math.ceil(failure.retry_after))),
                "Via": "1.1 google",
                "X-RateLimit-Scope": "global" if failure.is_global else "user",
            }
            if failure.is_global:
                headers["X-RateLimit-Global"] = "true"
            return _json_response(429, rec.response, headers)
        rec.response = failure.body or {"message": f"{failure.status}: Injected failure", "code": 0}
        return _json_response(failure.status, rec.response)

    async def _handle_attachment(self, request: web.Request) -> web.StreamResponse:
        att = self.world.attachments.get(int(request.match_info["attachment"]))
        if att is None:
            return web.Response(status=404)
        return web.Response(body=att.data, content_type=att.content_type or "application/octet-stream")

    # ---- test API: world -------------------------------------------------------------------------
    def add_user(
        self, name: str, *, admin: bool = False, roles: tuple[FakeRole | str, ...] = (), locale: str = "en-US"
    ) -> FakeUser:
        """A new guild member; ``admin`` gives the Admin role (Manage Server, Manage Messages, …)."""
        w = self.world
        role_ids = [w.admin_role.id] if admin else []
        for role in roles:
            role_ids.append(role.id if isinstance(role, FakeRole) else w.role_named(role).id)
        user = FakeUser(id=w.ids.next(), name=name, locale=locale, roles=role_ids)
        w.users[user.id] = user
        return user

    def add_role(self, name: str, permissions: int = 0) -> FakeRole:
        return self.world.add_role(name, permissions)

    def add_channel(self, name: str) -> FakeChannel:
        return self.world.add_channel(name)

    def permissions_of(self, user: FakeUser) -> int:
        return self.world.permissions_of(user)

    def messages(self, channel_id: int | None = None, *, include_deleted: bool = False) -> list[FakeMessage]:
        """Messages of a channel (default channel if None), oldest first, ephemeral ones included."""
        cid = self.channel if channel_id is None else channel_id
        msgs = self.world.messages_by_channel.get(cid, [])
        return list(msgs) if include_deleted else [m for m in msgs if not m.deleted]

    def message(self, message_id: int) -> FakeMessage:
        return self.world.messages_by_id[message_id]

    def channels(self) -> list[FakeChannel]:
        return list(self.world.channels.values())

    def threads(self, parent_id: int | None = None) -> list[FakeChannel]:
        return [c for c in self.world.channels.values() if c.is_thread and parent_id in (None, c.parent_id)]

    def commands(self, guild_id: int | None = None) -> list[Json]:
        """Commands the bot registered globally (None) or for ``guild_id``."""
        return list(self.world.commands.get(guild_id, []))

    def requests_matching(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        rx = re.compile(path_pattern)
        return [r for r in self.requests if method in ("*", r.method) and rx.search(r.path)]

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked on every change and every 50 ms); return its value."""
        try:
            return await self.world.wait_until(predicate, timeout)
        except TimeoutError:
            recent = self.requests[-8:]
            raise TimeoutError(f"condition not met in {timeout}s; last requests: {recent}") from None

    async def say(self, user: FakeUser, content: str, channel_id: int | None = None) -> FakeMessage:
        """A user posts a plain message (dispatched as MESSAGE_CREATE if the bot has the intent)."""
        cid = self.channel if channel_id is None else channel_id
        return await self.world.create_message(cid, user, {"content": content}, [])

    # ---- test API: gateway -----------------------------------------------------------------------
    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until the bot IDENTIFYed and was sent READY and GUILD_CREATE."""
        await self.wait_until(self.gateway.ready.is_set, timeout)

    async def drop_gateway(self, *, hold: bool = False) -> None:
        """Close the bot's websocket (code 4000) so it RESUMEs; ``hold`` makes reconnects wait for release."""
        await self.gateway.drop(hold=hold)

    def release_gateway(self) -> None:
        self.gateway.release()

    async def wait_resumed(self, timeout: float = 10.0) -> None:
        await self.wait_until(self.gateway.resumed.is_set, timeout)

    async def reconnect_gateway(self) -> None:
        """Send op 7 RECONNECT."""
        await self.gateway.send_reconnect()

    async def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION."""
        await self.gateway.invalidate(resumable=resumable)

    async def dispatch(self, event: str, data: Json) -> int:
        """Send any gateway dispatch; returns its sequence number."""
        return await self.gateway.dispatch(event, data)

    # ---- test API: failures ----------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        path_pattern: str,
        *,
        status: int = 429,
        retry_after: float = 0.2,
        is_global: bool = False,
        times: int = 1,
        body: dict[str, object] | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching (method or "*", regex searched in the path) with ``status``."""
        self.failures.add(Failure(method, re.compile(path_pattern), status, retry_after, is_global, times, body))

    def expire_interaction(self, interaction: FakeInteraction) -> None:
        """Make the interaction's token invalid now (as after Discord's 15 minutes)."""
        interaction.expired = True
