"""The gateway websocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME with replay, op 7, op 9."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .models import PRIVILEGED_INTENTS

log = logging.getLogger(__name__)

Json = dict[str, Any]

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

CLOSE_AUTH_FAILED = 4004
CLOSE_DISALLOWED_INTENTS = 4014


@dataclass
class Session:
    id: str
    intents: int
    seq: int = 0
    sent: list[Json] = field(default_factory=list)  # every dispatch of the session, for replay


@dataclass
class GatewayHooks:
    """What the gateway asks the rest of the emulator for."""

    token: Callable[[], str]
    ready_payload: Callable[[Session], Json]
    guild_payloads: Callable[[], list[Json]]
    members_chunk: Callable[[Json], Json]
    resume_url: Callable[[], str]
    allowed_privileged: Callable[[], int] = lambda: PRIVILEGED_INTENTS  # enabled in the "developer portal"


class Gateway:
    """One bot session at a time (no sharding)."""

    def __init__(self, hooks: GatewayHooks, *, heartbeat_interval_ms: int = 41250) -> None:
        self.hooks = hooks
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.session: Session | None = None
        self.ws: web.WebSocketResponse | None = None
        self.received: list[Json] = []  # every client payload, in order (ops 1, 2, 6, ...)
        self.connections = 0
        self.identifies = 0
        self.resumes = 0
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self._open = asyncio.Event()
        self._open.set()
        self._lock = asyncio.Lock()
        self._handlers_done: dict[int, asyncio.Event] = {}

    @property
    def connected(self) -> bool:
        return self.ws is not None and not self.ws.closed

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.connections += 1
        done = self._handlers_done.setdefault(id(ws), asyncio.Event())
        try:
            await self._open.wait()
            await ws.send_str(json.dumps({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                payload: Json = json.loads(msg.data)
                self.received.append(payload)
                await self._on_payload(ws, payload)
        finally:
            if self.ws is ws:
                self.ws = None
            done.set()
            self._handlers_done.pop(id(ws), None)
        return ws

    async def _on_payload(self, ws: web.WebSocketResponse, payload: Json) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            await ws.send_str(json.dumps({"op": OP_HEARTBEAT_ACK, "d": None}))
        elif op == OP_IDENTIFY:
            await self._identify(ws, data or {})
        elif op == OP_RESUME:
            await self._resume(ws, data or {})
        elif op == OP_REQUEST_MEMBERS:
            await self.dispatch("GUILD_MEMBERS_CHUNK", self.hooks.members_chunk(data or {}))
        elif op == OP_PRESENCE:
            pass
        else:
            log.debug("gateway: ignoring op %s", op)

    async def _identify(self, ws: web.WebSocketResponse, data: Json) -> None:
        if data.get("token") != self.hooks.token():
            await ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.hooks.allowed_privileged():
            await ws.close(code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        self.identifies += 1
        self.session = Session(id=secrets.token_hex(16), intents=intents)
        self.ready.clear()
        async with self._lock:
            self.ws = ws
        await self.dispatch("READY", self.hooks.ready_payload(self.session))
        for guild in self.hooks.guild_payloads():
            await self.dispatch("GUILD_CREATE", guild)
        self.ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> None:
        session = self.session
        if data.get("token") != self.hooks.token():
            await ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed.")
            return
        if session is None or data.get("session_id") != session.id:
            await ws.send_str(json.dumps({"op": OP_INVALID_SESSION, "d": False}))
            return
        last = int(data.get("seq") or 0)
        async with self._lock:
            self.ws = ws
            for event in session.sent:
                if event["s"] > last:
                    await ws.send_str(json.dumps(event))
            session.seq += 1
            resumed = {"op": OP_DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}}
            session.sent.append(resumed)
            await ws.send_str(json.dumps(resumed))
        self.resumes += 1
        self.resumed.set()

    async def dispatch(self, event: str, data: Json) -> int:
        """Send a dispatch (or buffer it for RESUME if the bot is disconnected). Returns its sequence number."""
        session = self.session
        if session is None:
            log.debug("gateway: no session, dropping %s", event)
            return 0
        async with self._lock:
            session.seq += 1
            payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
            session.sent.append(payload)
            ws = self.ws
            if ws is not None and not ws.closed:
                try:
                    await ws.send_str(json.dumps(payload))
                except (ConnectionError, RuntimeError):
                    log.debug("gateway: send of %s failed; it will be replayed on RESUME", event)
            return session.seq

    async def drop(self, *, code: int = 4000, hold: bool = False) -> None:
        """Close the bot's socket (it will RESUME). With ``hold``, new connections wait for :meth:`release`."""
        if hold:
            self._open.clear()
        self.resumed.clear()
        ws = self.ws
        self.ws = None
        if ws is not None:
            done = self._handlers_done.get(id(ws))
            await ws.close(code=code, message=b"dropped by test")
            if done is not None:
                await done.wait()

    def release(self) -> None:
        self._open.set()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT; the client closes and RESUMEs."""
        self.resumed.clear()
        ws = self.ws
        if ws is not None:
            await ws.send_str(json.dumps({"op": OP_RECONNECT, "d": None}))

    async def invalidate(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the client must IDENTIFY again."""
        ws = self.ws
        if not resumable:
            self.ready.clear()
            self.session = None
        if ws is not None:
            await ws.send_str(json.dumps({"op": OP_INVALID_SESSION, "d": resumable}))

    async def close(self) -> None:
        self._open.set()
        ws = self.ws
        self.ws = None
        if ws is not None and not ws.closed:
            await ws.close(code=1001, message=b"server shutdown")
