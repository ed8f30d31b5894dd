"""`ClusterBus`: `Peers` over Redis pub/sub — actions every bot process performs (see `bot/core/peers.py`).

    broadcast: PUBLISH {P}:bus {"id", "action", "from", "payload"}; then BLPOP {P}:bus:reply:<id> until every live
               peer answered or REPLY_WAIT passed
    listener:  every process SUBSCRIBEs {P}:bus; on an action from another process it runs its handler and
               RPUSHes {"process", "ok", "result"} to the reply list (which expires)
    liveness:  ZADD {P}:bots <process> <now> every heartbeat: how many answers to wait for

Pub/sub delivers to the processes connected at that moment; one that is reconnecting misses the action (the
answer count says so: "reloaded on 1 of 2 other processes").
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import time
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.cluster.keys import Keys
from bot.core.peers import Handler, Payload, PeerReply
from bot.core.tasks import OwnedTasks

log = logging.getLogger(__name__)

REPLY_WAIT = 2.0  # seconds a broadcast waits for the other processes' answers
MAX_MESSAGE = 64 * 1024  # bytes of one bus message or answer


class ClusterBus:
    def __init__(self, redis: Redis, keys: Keys, *, heartbeat: float = 1.0, dead_after: float = 3.0) -> None:
        self.redis = redis
        self.keys = keys
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.process = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.handlers: dict[str, Handler] = {}
        self._tasks = OwnedTasks()
        self._subscribed = asyncio.Event()

    def on(self, action: str, handler: Handler) -> None:
        self.handlers[action] = handler

    def off(self, action: str) -> None:
        self.handlers.pop(action, None)

    async def start(self) -> None:
        await self._beat()
        self._tasks.spawn(self._listen(), name="corobot-bus-listen")
        self._tasks.spawn(self._beating(), name="corobot-bus-heartbeat")
        await asyncio.wait_for(self._subscribed.wait(), 10.0)
        log.info("cluster bus: this bot process is %s", self.process)

    async def close(self) -> None:
        await self._tasks.close()
        try:
            await self.redis.zrem(self.keys.bots, self.process)
        except RedisError as exc:
            log.warning("cluster bus: could not leave (%s)", exc)

    async def peers(self) -> int:
        """Other bot processes that sent a heartbeat within dead_after."""
        now = time.time() * 1000
        alive = await self.redis.zrangebyscore(self.keys.bots, now - self.dead_after * 1000, "+inf")
        return len([p for p in alive if p != self.process])

    async def broadcast(self, action: str, payload: Payload | None = None) -> list[PeerReply]:
        request = secrets.token_hex(8)
        message = json.dumps({"id": request, "action": action, "from": self.process, "payload": dict(payload or {})})
        try:
            expected = await self.peers()
            if not expected:
                return []
            await self.redis.publish(self.keys.bus, message)
            replies: list[PeerReply] = []
            deadline = time.monotonic() + REPLY_WAIT
            while len(replies) < expected and (left := deadline - time.monotonic()) > 0:
                got = await self.redis.blpop([self.keys.bus_reply(request)], timeout=max(0.01, left))
                if got is None:
                    break
                reply = _reply(got[1])
                if reply is not None:
                    replies.append(reply)
            return replies
        except RedisError as exc:
            log.error("cluster bus: %s could not reach the other processes: %s", action, exc)
            return []

    async def _beat(self) -> None:
        await self.redis.zadd(self.keys.bots, {self.process: int(time.time() * 1000)})

    async def _beating(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self._beat()
                await self.redis.zremrangebyscore(self.keys.bots, "-inf", time.time() * 1000 - 3600_000)
            except RedisError as exc:
                log.warning("cluster bus: heartbeat failed (%s)", exc)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.keys.bus)
                    self._subscribed.set()
                    while True:
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message is not None and isinstance(message.get("data"), str):
                            await self._handle(message["data"])
            except RedisError as exc:
                log.warning("cluster bus: subscription lost (%s); subscribing again", exc)
                await asyncio.sleep(0.5)

    async def _handle(self, raw: str) -> None:
        try:
            message: Any = json.loads(raw) if len(raw) <= MAX_MESSAGE else None
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("from") == self.process:
            return
        action, request = message.get("action"), message.get("id")
        handler = self.handlers.get(action) if isinstance(action, str) else None
        if handler is None or not isinstance(request, str) or len(request) > 64:
            return
        found = message.get("payload")
        payload: dict[str, Any] = found if isinstance(found, dict) else {}
        try:
            result: dict[str, Any] = {"process": self.process, "ok": True, "result": dict(await handler(payload))}
        except Exception as exc:
            log.exception("cluster bus: %s from %s failed here", action, message.get("from"))
            result = {"process": self.process, "ok": False, "result": {"error": f"{type(exc).__name__}: {exc}"}}
        key = self.keys.bus_reply(request)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.rpush(key, json.dumps(result, default=str)[:MAX_MESSAGE])
            pipe.expire(key, 60)
            await pipe.execute()
        log.info("cluster bus: ran %s for %s", action, message.get("from"))


def _reply(raw: str | bytes) -> PeerReply | None:
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("result"), dict):
        return None
    return PeerReply(str(data.get("process", "?"))[:100], data.get("ok") is True, data["result"])
