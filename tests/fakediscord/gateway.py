"""The gateway websocket: HELLO, IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME with replay, op 7, op 9,
and sharding: one session per shard (IDENTIFY's `shard: [id, count]`, default [0, 1]); each guild's events go to
the session of its shard ((guild_id >> 22) % count, Discord's rule), events without a guild to shard 0's."""

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
CLOSE_INVALID_SHARD = 4010
CLOSE_DISALLOWED_INTENTS = 4014


@dataclass
class Session:
    id: str
    intents: int
    shard: int = 0
    shard_count: int = 1
    seq: int = 0
    sent: list[Json] = field(default_factory=list)  # every dispatch of the session, for replay
    ws: web.WebSocketResponse | None = None

    def carries(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives the events of `guild_id` (None: no guild, shard 0)."""
        if guild_id is None:
            return self.shard == 0
        return (guild_id >> 22) % self.shard_count == self.shard


@dataclass
class GatewayHooks:
    """What the gateway asks the rest of the emulator for."""

    token: Callable[[], str]
    ready_payload: Callable[[Session], Json]
    guild_payloads: Callable[[Session], list[Json]]
    members_chunk: Callable[[Json], Json]
    resume_url: Callable[[], str]
    allowed_privileged: Callable[[], int] = lambda: PRIVILEGED_INTENTS  # enabled in the "developer portal"


def guild_of(data: Json, event: str) -> int | None:
    """The guild an event belongs to (its shard receives it)."""
    raw = data.get("id") if event.startswith("GUILD_") and "guild_id" not in data else data.get("guild_id")
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


class Gateway:
    """The bot's sessions, one per shard (an unsharded bot has one: shard 0 of 1)."""

    def __init__(self, hooks: GatewayHooks, *, heartbeat_interval_ms: int = 41250) -> None:
        self.hooks = hooks
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: dict[int, Session] = {}  # shard id -> its session
        self.received: list[Json] = []  # every client payload, in order (ops 1, 2, 6, ...)
        self.connections = 0
        self.identifies = 0
        self.resumes = 0
        self.ready = asyncio.Event()  # set when a session got READY and its GUILD_CREATEs
        self.resumed = asyncio.Event()
        self.ready_shards: set[int] = set()
        self._open = asyncio.Event()
        self._open.set()
        self._lock = asyncio.Lock()
        self._handlers_done: dict[int, asyncio.Event] = {}

    # shard 0's session: what an unsharded bot has (and what the single-session test API means)
    @property
    def session(self) -> Session | None:
        return self.sessions.get(0)

    @property
    def ws(self) -> web.WebSocketResponse | None:
        session = self.session
        return session.ws if session is not None else None

    @property
    def connected(self) -> bool:
        return any(s.ws is not None and not s.ws.closed for s in self.sessions.values())

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
            for session in self.sessions.values():
                if session.ws is ws:
                    session.ws = None
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
        shard, count = data.get("shard") or [0, 1]
        if not (isinstance(shard, int) and isinstance(count, int) and 0 <= shard < count):
            await ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
            return
        intents = int(data.get("intents", 0))
        if intents & PRIVILEGED_INTENTS & ~self.hooks.allowed_privileged():
            await ws.close(code=CLOSE_DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        self.identifies += 1
        session = Session(id=secrets.token_hex(16), intents=intents, shard=shard, shard_count=count)
        self.ready.clear()
        self.ready_shards.discard(shard)
        async with self._lock:
            session.ws = ws
            self.sessions[shard] = session
        await self._send(session, "READY", self.hooks.ready_payload(session))
        for guild in self.hooks.guild_payloads(session):
            await self._send(session, "GUILD_CREATE", guild)
        self.ready_shards.add(shard)
        self.ready.set()

    async def _resume(self, ws: web.WebSocketResponse, data: Json) -> None:
        if data.get("token") != self.hooks.token():
            await ws.close(code=CLOSE_AUTH_FAILED, message=b"Authentication failed.")
            return
        session = next((s for s in self.sessions.values() if s.id == data.get("session_id")), None)
        if session is None:
            await ws.send_str(json.dumps({"op": OP_INVALID_SESSION, "d": False}))
            return
        last = int(data.get("seq") or 0)
        async with self._lock:
            session.ws = ws
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
        """Send a dispatch to the session whose shard carries it (buffered for RESUME if it is disconnected).
        Returns its sequence number (0: no session carries it)."""
        guild = guild_of(data, event)
        session = next((s for s in self.sessions.values() if s.carries(guild)), None)
        if session is None:
            log.debug("gateway: no session carries %s (guild %s), dropping it", event, guild)
            return 0
        return await self._send(session, event, data)

    async def _send(self, session: Session, event: str, data: Json) -> int:
        async with self._lock:
            session.seq += 1
            payload = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
            session.sent.append(payload)
            ws = session.ws
            if ws is not None and not ws.closed:
                try:
                    await ws.send_str(json.dumps(payload))
                except (ConnectionError, RuntimeError):
                    log.debug("gateway: send of %s failed; it will be replayed on RESUME", event)
            return session.seq

    async def drop(self, *, code: int = 4000, hold: bool = False) -> None:
        """Close the bot's sockets (it will RESUME). With ``hold``, new connections wait for :meth:`release`."""
        if hold:
            self._open.clear()
        self.resumed.clear()
        for session in list(self.sessions.values()):
            ws, session.ws = session.ws, None
            if ws is not None:
                done = self._handlers_done.get(id(ws))
                await ws.close(code=code, message=b"dropped by test")
                if done is not None:
                    await done.wait()

    def release(self) -> None:
        self._open.set()

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT on every session; the client closes and RESUMEs."""
        self.resumed.clear()
        for session in list(self.sessions.values()):
            if session.ws is not None:
                await session.ws.send_str(json.dumps({"op": OP_RECONNECT, "d": None}))

    async def invalidate(self, *, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with ``resumable=False`` the client must IDENTIFY again."""
        sessions = list(self.sessions.values())
        if not resumable:
            self.ready.clear()
            self.ready_shards.clear()
            self.sessions.clear()
        for session in sessions:
            if session.ws is not None:
                await session.ws.send_str(json.dumps({"op": OP_INVALID_SESSION, "d": resumable}))

    async def close(self) -> None:
        self._open.set()
        for session in list(self.sessions.values()):
            ws, session.ws = session.ws, None
            if ws is not None and not ws.closed:
                await ws.close(code=1001, message=b"server shutdown")
