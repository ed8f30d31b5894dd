"""`RemoteRunner`: a `RunnerLike` whose runs go to runner nodes through Redis (the bot-process side).

    run / submit ── admit (Lua: per-member limit, quotas, queue size, live nodes; XADD the request) ──► {P}:runs
    {P}:inbox:<this process> ◄── events (XADD by the node that runs it) ── read by one XREAD loop, per run:
                                  checked and bounded (`RemoteRun.receive`), then the run's iterator
    every heartbeat: its inbox kept (it expires if this process dies), dead nodes reaped (their runs end `killed`),
                     queued runs' places refreshed, silent runs ended, unconfirmed stops ended

Run ids are unique across processes: this process's number (`INCR {P}:procs`) in the high bits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Sequence
from types import TracebackType

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.cluster.admission import Admission, WindowQuota
from bot.cluster.keys import Keys
from bot.cluster.remote_run import RemoteRun
from bot.cluster.scripts import Scripts, text
from bot.cluster.streams import entries
from bot.cluster.view import ClusterView, common_pythons, pythons_from_json
from bot.core.errors import InputTooLarge, RunnerClosed, RunnerError, RunnersUnavailable, UserBusy
from bot.core.events import Finished, Status
from bot.core.runner.limits import RunnerLimits
from bot.core.runner.pythons import own_interpreter
from bot.core.tasks import OwnedTasks
from bot.core.versions import Pythons
from bot.core.wire import EventReader

log = logging.getLogger(__name__)

INBOX_BOUND = 100_000  # entries an inbox keeps (approximately) if its reader falls behind
RUN_GRACE = 10.0  # seconds past a run's timeout (plus dead_after) before a silent node's run is ended here
CANCEL_GRACE = 5.0  # seconds a node has to confirm a stop
GONE_POLLS = 3  # polls finding a queued run nowhere before it counts as lost
READ_BLOCK_MS = 1000


class RemoteRunner:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        limits: RunnerLimits,
        *,
        heartbeat: float = 1.0,
        dead_after: float = 3.0,
        quotas: tuple[WindowQuota, ...] = (),
        where: str = "redis",
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.limits = limits
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.quotas = quotas
        self.where = where
        self.scripts = Scripts.register(redis)
        self.admission = Admission(self.scripts, keys, limits, quotas, dead_after, where)
        self.view = ClusterView()
        self.process = ""
        self.inbox = ""
        self._id_base = 0
        self._next = 0
        self._runs: dict[int, RemoteRun] = {}
        self._readers: dict[float, EventReader] = {}
        self._tasks = OwnedTasks()
        self._started = False
        self._closed = False
        self._redis_down = False
        self.run_grace = RUN_GRACE + dead_after  # seconds past a run's timeout before its node counts as silent

    async def __aenter__(self) -> RemoteRunner:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- life cycle ------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        try:
            number = int(await self.redis.incr(self.keys.procs))
            self.process = f"{socket.gethostname()}-{os.getpid()}-{number}"
            self.inbox = self.keys.inbox(self.process)
            last = await self.redis.xadd(self.inbox, {"hello": self.process})
            await self.redis.pexpire(self.inbox, self._inbox_ttl_ms())
            await self._look()
        except RedisError as exc:
            raise RunnerError(f"cannot reach Redis at {self.where}: {exc}") from exc
        self._id_base = (number % (1 << 20)) << 32
        self._started = True
        self._tasks.spawn(self._read_inbox(str(last)), name="corobot-inbox")
        self._tasks.spawn(self._maintain(), name="corobot-remote-heartbeat")
        log.info("remote runner ready: %s", self.describe())

    async def close(self) -> None:
        """Stop every run of this process (they end `cancelled`), then stop reading."""
        if self._closed:
            return
        self._closed = True
        live = [r for r in self._runs.values() if not r.done]
        for run in live:
            run.cancel()
        if live:
            await asyncio.wait([asyncio.ensure_future(r.ended.wait()) for r in live], timeout=CANCEL_GRACE)
        for run in live:
            if not run.done:
                run.end(Status.CANCELLED, "the bot stopped before the runner node confirmed the stop")
        await self._tasks.close()
        if self._started:
            try:
                await self.redis.delete(self.inbox)
            except RedisError as exc:
                log.warning("could not say goodbye to Redis at %s: %s", self.where, exc)

    def describe(self) -> str:
        v = self.view
        return (
            f"runner nodes through Redis at {self.where} (prefix {self.keys.prefix}): {len(v.nodes)} node(s) alive, "
            f"{v.capacity} slots, {v.running} running, {v.queue_depth} queued"
        )

    @property
    def active(self) -> int:
        return sum(1 for r in self._runs.values() if r.state == "running")

    @property
    def queued(self) -> int:
        return sum(1 for r in self._runs.values() if r.state in ("admitting", "queued"))

    # -- admission -------------------------------------------------------------------------------------
    @property
    def pythons(self) -> Pythons:
        """The versions every live runner node offers (this process's own interpreter until a node said)."""
        return self.view.pythons or Pythons.single(own_interpreter().release)

    def check_admission(self, owner: int | None = None, runs: int = 1) -> None:
        """What this process can tell without asking Redis; `submit` is the authority."""
        if self._closed or not self._started:
            raise RunnerClosed()
        if owner is not None:
            mine = {r.group for r in self._runs.values() if r.owner == owner and not r.done}
            if len(mine) >= self.limits.per_user:
                raise UserBusy(self.limits.per_user)

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
        stdin: str | None = None,
    ) -> RemoteRun:
        """The handle at once; admission happens in the background (a refusal is raised by its iterator)."""
        handles = self._new(code, name, timeout, owner, [self.pythons.resolve(python)], self._stdin(stdin))
        self._tasks.spawn(self._admit_later(handles), name=f"corobot-admit-{handles[0].id}")
        return handles[0]

    def run_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> list[RemoteRun]:
        handles = self._new(code, name, timeout, owner, [self.pythons.resolve(p) for p in pythons])
        self._tasks.spawn(self._admit_later(handles), name=f"corobot-admit-{handles[0].id}")
        return handles

    def submit(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
        stdin: str | None = None,
    ) -> Awaitable[RemoteRun]:
        """Admit now (raises `UserBusy`, `QueueFull`, `StartRateLimited`, `RunnersUnavailable`, `RunnerClosed`,
        `PythonUnavailable`, `InputTooLarge`)."""
        handles = self._new(code, name, timeout, owner, [self.pythons.resolve(python)], self._stdin(stdin))
        return self._submit_one(handles)

    def submit_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> Awaitable[list[RemoteRun]]:
        return self._submit(self._new(code, name, timeout, owner, [self.pythons.resolve(p) for p in pythons]))

    async def _submit_one(self, handles: list[RemoteRun]) -> RemoteRun:
        return (await self._submit(handles))[0]

    async def _submit(self, handles: list[RemoteRun]) -> list[RemoteRun]:
        try:
            await self._admit(handles)
        except asyncio.CancelledError:
            for handle in handles:
                handle.cancel()  # they may be in the queue already: take them out
            raise
        except BaseException:
            for handle in handles:
                self._forget(handle)
            raise
        return handles

    def cancel_owner(self, owner: int) -> int:
        runs = [r for r in self._runs.values() if r.owner == owner and not r.done]
        for run in runs:
            run.cancel()
        return len({r.group for r in runs})

    def _stdin(self, stdin: str | None) -> str:
        """What the program reads on its standard input, checked here as the in-process runner does."""
        size = len(stdin.encode("utf-8", "surrogateescape")) if stdin else 0
        if size > self.limits.stdin_bytes:
            raise InputTooLarge(size, self.limits.stdin_bytes)
        return stdin or ""

    def _new(
        self, code: str, name: str, timeout: float | None, owner: int | None, versions: list[str], stdin: str = ""
    ) -> list[RemoteRun]:
        if self._closed or not self._started:
            raise RunnerClosed()
        lim = self.limits
        timeout = min(timeout if timeout is not None else lim.timeout_default, lim.timeout_max)
        reader = self._readers.get(timeout)
        if reader is None:
            reader = self._readers[timeout] = EventReader(max_t=timeout + RUN_GRACE + self.dead_after)
        handles: list[RemoteRun] = []
        for version in versions:
            self._next += 1
            run_id = self._id_base + self._next
            handle = RemoteRun(run_id, code, name, timeout, owner, lim, reader, self._on_cancel)
            handle.python, handle.stdin = version, stdin
            handle.group = handles[0].id if handles else run_id
            self._runs[run_id] = handle
            handles.append(handle)
        return handles

    async def _admit_later(self, handles: list[RemoteRun]) -> None:
        try:
            await self._admit(handles)
        except RunnerError as exc:
            for handle in handles:
                handle.refuse(exc)
                self._forget(handle)

    async def _admit(self, handles: list[RemoteRun]) -> None:
        if self._closed:
            raise RunnerClosed()
        try:
            places = await self.admission.admit(handles, self.inbox)
        except RunnersUnavailable as exc:
            self._note_redis(RedisError(exc.detail) if exc.detail.startswith("cannot reach") else None)
            raise
        self._note_redis(None)
        for handle, place in zip(handles, places, strict=True):
            handle.state = "queued"
            handle.queued_at(place)
            if handle.cancel_requested:
                self._tasks.spawn(self._cancel(handle), name=f"corobot-cancel-{handle.id}")

    def _note_redis(self, error: RedisError | None) -> None:
        if error is not None and not self._redis_down:
            log.error("Redis at %s is unreachable (%s); runs are refused until it answers", self.where, error)
        elif error is None and self._redis_down:
            log.warning("Redis at %s answers again", self.where)
        self._redis_down = error is not None

    # -- stopping runs ---------------------------------------------------------------------------------
    def _on_cancel(self, handle: RemoteRun) -> None:
        if handle.state == "admitting":
            return  # `_admit` sees the request once Redis has answered
        self._tasks.spawn(self._cancel(handle), name=f"corobot-cancel-{handle.id}")

    async def _cancel(self, handle: RemoteRun) -> None:
        k = self.keys
        try:
            reply = await self.scripts.cancel(keys=[k.queue, k.running], args=[handle.id, k.control(""), k.tag])
        except RedisError as exc:
            log.warning("run %s: cannot reach Redis to stop it (%s); ending it here", handle.id, exc)
            handle.end(Status.CANCELLED, "stopped here; the runner could not be reached to confirm")
            self._forget(handle)
            return
        if text(reply[0]) == "queued":
            handle.emit(Finished(Status.CANCELLED, 0.0))
            self._forget(handle)
        else:  # running (its node was told) or just ended: its Finished is on the way
            handle.cancel_deadline = time.monotonic() + CANCEL_GRACE

    def _give_up(self, handle: RemoteRun, status: Status, reason: str) -> None:
        """End a run here and release it in Redis (its node, if alive, is told to stop it)."""
        log.warning("run %s (node %s): %s", handle.id, handle.node or "?", reason)
        handle.end(status, reason)
        self._forget(handle)
        self._tasks.spawn(self._release(handle), name=f"corobot-release-{handle.id}")

    async def _release(self, handle: RemoteRun) -> None:
        k = self.keys
        try:
            await self.scripts.abandon(keys=[k.queue, k.running], args=[handle.id, k.control(""), k.tag])
        except RedisError as exc:
            log.warning("run %s: could not release it in Redis (%s); it expires by itself", handle.id, exc)

    def _forget(self, handle: RemoteRun) -> None:
        self._runs.pop(handle.id, None)

    # -- the inbox ---------------------------------------------------------------------------------------
    async def _read_inbox(self, last: str) -> None:
        trimmed_at = time.monotonic()
        failing = False
        while True:
            try:
                reply = await self.redis.xread({self.inbox: last}, count=500, block=READ_BLOCK_MS)
                if time.monotonic() - trimmed_at > 2.0:
                    await self.redis.xtrim(self.inbox, minid=last, approximate=False)
                    trimmed_at = time.monotonic()
            except RedisError as exc:
                if not failing:
                    log.error("reading the run events from Redis at %s failed (%s); retrying", self.where, exc)
                failing = True
                await asyncio.sleep(0.5)
                continue
            if failing:
                log.warning("reading run events from Redis at %s works again", self.where)
                failing = False
            for entry_id, fields in entries(reply):
                last = entry_id
                self._deliver(fields)

    def _deliver(self, fields: dict[str, str]) -> None:
        try:
            handle = self._runs.get(int(fields.get("r", "")))
        except ValueError:
            return
        if handle is None:
            return  # a run this process already ended (or the hello entry)
        if handle.node is None and fields.get("n"):
            handle.node = fields["n"][:100]
        reason = handle.receive(fields.get("e", ""), fields.get("s"))
        if reason is not None:
            self._give_up(handle, Status.KILLED, reason)
        elif handle.done:
            self._forget(handle)

    # -- every heartbeat ---------------------------------------------------------------------------------
    async def _maintain(self) -> None:
        tick = min(self.heartbeat, 0.5)
        last_beat = 0.0
        while True:
            await asyncio.sleep(tick)
            try:
                if time.monotonic() - last_beat >= self.heartbeat:
                    last_beat = time.monotonic()
                    await self._beat()
                await self._poll_places()
                self._note_redis(None)
            except RedisError as exc:
                self._note_redis(exc)
            self._watch()

    async def _beat(self) -> None:
        k = self.keys
        if not await self.redis.pexpire(self.inbox, self._inbox_ttl_ms()):
            # gone (Redis restarted without its data, or this process was cut off longer than its lifetime): nodes
            # add to it anyway (it expires 10 minutes after its last event) but this process must keep it alive
            log.warning("this process's event inbox was gone from Redis; making it again")
            await self.redis.xadd(self.inbox, {"hello": self.process})
            await self.redis.pexpire(self.inbox, self._inbox_ttl_ms())
        dead, orphans = await self.scripts.reap(
            keys=[k.nodes, k.capacity, k.running], args=[int(self.dead_after * 1000), k.tag, INBOX_BOUND]
        )
        if dead:
            log.warning("runner node(s) %s stopped sending heartbeats; %d run(s) ended", dead, len(orphans) // 2)
        await self._look()

    async def _look(self) -> None:
        k = self.keys
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.time()
            pipe.zrange(k.nodes, 0, -1, withscores=True)
            pipe.hgetall(k.capacity)
            pipe.zcard(k.queue)
            pipe.hlen(k.running)
            (seconds, micros), nodes, capacity, depth, running = await pipe.execute()
        now_ms = int(seconds) * 1000 + int(micros) // 1000
        alive = {str(n): (now_ms - score) / 1000 for n, score in nodes if now_ms - score <= self.dead_after * 1000}
        offers = []
        if alive:
            async with self.redis.pipeline(transaction=False) as pipe:
                for node in alive:
                    pipe.hget(k.node(node), "pythons")
                offers = [p for p in map(pythons_from_json, await pipe.execute()) if p is not None]
        self.view = ClusterView(
            nodes=alive,
            capacity=sum(int(capacity.get(n, 0)) for n in alive),
            queue_depth=int(depth),
            running=int(running),
            pythons=common_pythons(offers) or self.view.pythons,
            seen_at=time.monotonic(),
        )

    async def _poll_places(self) -> None:
        waiting = [r for r in self._runs.values() if r.state == "queued"]
        if not waiting:
            return
        k = self.keys
        places = await self.scripts.positions(
            keys=[k.queue, k.running, k.nodes, k.capacity], args=[int(self.dead_after * 1000), *(r.id for r in waiting)]
        )
        for handle, place in zip(waiting, places, strict=True):
            where = text(place)
            if where == "gone" and handle.state == "queued":
                handle.gone_polls += 1
                if handle.gone_polls >= GONE_POLLS:
                    reason = "the run request was lost before a runner node took it (Redis restarted?)"
                    self._give_up(handle, Status.KILLED, reason)
            elif where != "running":
                handle.gone_polls = 0
                handle.queued_at(int(where))

    def _watch(self) -> None:
        now = time.monotonic()
        for handle in list(self._runs.values()):
            if handle.done:
                continue
            if handle.cancel_deadline is not None and now > handle.cancel_deadline:
                self._give_up(handle, Status.CANCELLED, "the runner node did not confirm the stop in time")
            elif handle.started_at is not None and now - handle.started_at > handle.timeout + self.run_grace:
                reason = f"the runner node {handle.node or '?'} sent no end within the run's timeout"
                self._give_up(handle, Status.KILLED, reason)

    def _inbox_ttl_ms(self) -> int:
        return int(max(60.0, 20 * self.dead_after) * 1000)
