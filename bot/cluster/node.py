"""`RunnerNode`: `corobot runner-node` — a warm sandboxed `Runner` serving run requests from Redis.

    {P}:runs ──XREADGROUP (group `nodes`, consumer = this node; only as many as it has free slots + prefetch)──►
      held (read, not started) ──START (Lua: out of the queue, into `running`, acknowledged)──► Runner.run(...)
      every event ──XADD──► the asking bot's inbox; the Finished ──FINISH (Lua: event + the member's slot back)
    {P}:ctl:<node> (pub/sub) ── run ids to stop (`/stop` on any bot process)
    every heartbeat: HEARTBEAT (alive, capacity; -1 = declared dead: stop and come back under a new name),
                     REAP (dead nodes' runs end `killed`), XAUTOCLAIM (requests a dead node had read but not
                     started come here), XCLAIM of its own held requests (so no live node's are claimed)

A request a node read is not "in flight" until START succeeds, so a node that dies leaves two kinds of work:
runs it had started (REAP ends them `killed`, with the reason; they are not run again: a program may have
done half its work) and requests it had only read (XAUTOCLAIM hands them to another node, in their place).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from redis.typing import EncodableT, FieldT

from bot.cluster.keys import GROUP, Keys
from bot.cluster.node_state import Held, InFlight, NodeState, NodeStats
from bot.cluster.node_upkeep import Upkeep
from bot.cluster.request import BadRequest, RunRequest
from bot.cluster.scripts import INBOX_TTL_MS
from bot.cluster.streams import entries
from bot.cluster.view import pythons_to_json
from bot.core.events import Event, Finished, Queued, Started, Status, event_to_dict
from bot.core.runner import Run, Runner
from bot.core.tasks import OwnedTasks

log = logging.getLogger(__name__)

INBOX_BOUND = 100_000
READ_BLOCK_MS = 1000
READ_BATCH = 8  # requests taken per read at most: in a burst, nodes take turns instead of one taking everything
BATCH = 500  # events sent in one round trip at most
HOLD_MARGIN = 120.0  # seconds past a run's timeout before Redis forgets its records on its own


@dataclass(slots=True)
class Outgoing:
    flight: InFlight
    event: Event


class RunnerNode:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        runner: Runner,
        *,
        node_id: str | None = None,
        heartbeat: float = 1.0,
        dead_after: float = 3.0,
        prefetch: int = 0,
        drain: float = 30.0,
    ) -> None:
        self.runner = runner
        self.state = NodeState(
            redis,
            keys,
            capacity=runner.limits.max_concurrent,
            node_id=node_id,
            heartbeat=heartbeat,
            dead_after=dead_after,
            prefetch=prefetch,
            runner_description=runner.describe(),
            pythons=pythons_to_json(runner.pythons),
        )
        self.redis = redis
        self.keys = keys
        self.scripts = self.state.scripts
        self.drain = drain
        self._outbox: asyncio.Queue[Outgoing] = asyncio.Queue()
        self._tasks = OwnedTasks()  # reader, starter, sender, upkeep
        self._pumps = OwnedTasks()  # one per run in flight
        # run options a request may carry: what this version's Runner.run takes beyond the request's own fields
        self._accepts = set(inspect.signature(runner.run).parameters) - {"code", "name", "timeout", "owner"}
        self.upkeep = Upkeep(self.state)

    @property
    def node_id(self) -> str:
        return self.state.node_id

    @property
    def stats(self) -> NodeStats:
        return self.state.stats

    @property
    def inflight(self) -> dict[int, InFlight]:
        return self.state.inflight

    @property
    def held(self) -> deque[Held]:
        return self.state.held

    @property
    def free(self) -> int:
        return self.state.free

    # -- life cycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        await self.ensure_group()
        await self.upkeep.beat()
        self._tasks.spawn(self._read(), name="corobot-node-read")
        self._tasks.spawn(self._start_held(), name="corobot-node-start")
        self._tasks.spawn(self._send(), name="corobot-node-send")
        self._tasks.spawn(self.upkeep.run(), name="corobot-node-upkeep")
        slots = f"{self.state.capacity} slots, prefetch {self.state.prefetch}"
        log.info("runner node %s ready: %s; %s", self.node_id, slots, self.runner.describe())

    async def stop(self) -> None:
        """Take no more requests, give back the ones read but not started, let the runs in flight finish for up to
        `drain` seconds, stop the rest (they end `cancelled`), send every last event, and leave."""
        self.state.stopping = True
        for task in self._tasks:
            if task.get_name() in ("corobot-node-read", "corobot-node-start"):
                task.cancel()
        await self.give_back_held()
        if self.inflight:
            count = len(self.inflight)
            log.info("runner node %s stopping: letting %d run(s) finish (up to %g s)", self.node_id, count, self.drain)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pumps.wait(), self.drain)
        for flight in list(self.inflight.values()):
            if flight.run is not None:
                flight.run.cancel()  # ends `cancelled`; its pump sends the Finished
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._pumps.wait(), 5.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outbox.join(), 5.0)  # every last event sent
        await self._pumps.close()
        await self._tasks.close()
        await self.upkeep.leave()

    async def ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.keys.requests, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    # -- taking requests ------------------------------------------------------------------------------
    async def _read(self) -> None:
        failing = False
        while True:
            want = min(READ_BATCH, self.free + self.state.prefetch - len(self.held))
            if want <= 0:
                self.state.wake.clear()
                await self.state.wake.wait()
                continue
            try:
                reply = await self.redis.xreadgroup(
                    GROUP, self.node_id, {self.keys.requests: ">"}, count=want, block=READ_BLOCK_MS
                )
            except RedisError as exc:
                if "NOGROUP" in str(exc):
                    await self._retry(self.ensure_group)
                    continue
                if not failing:
                    log.error("runner node %s: reading requests failed (%s); retrying", self.node_id, exc)
                failing = True
                await asyncio.sleep(0.5)
                continue
            failing = False
            found = [Held(entry_id, fields) for entry_id, fields in entries(reply)]
            if found:
                self.held.extend(found)
                self.state.wake.set()

    async def _start_held(self) -> None:
        while True:
            if not self.held or self.free <= 0:
                self.state.wake.clear()
                await self.state.wake.wait()
                continue
            held = self.held.popleft()
            try:
                await self._start_one(held)
            except RedisError as exc:
                log.error("runner node %s: starting a run failed (%s); it stays queued", self.node_id, exc)
                self.held.appendleft(held)
                await asyncio.sleep(0.5)
            self.state.wake.set()  # the reader may want more

    async def _start_one(self, held: Held) -> None:
        """Launch the run at once and take it (START) meanwhile: the launch and the round trip overlap.  Until START
        answers, the run's events wait here; if the run turns out not to be this node's (stopped while it waited),
        it is cancelled within a millisecond or two of starting and nothing of it is ever sent."""
        try:
            request = RunRequest.parse(held.fields, self.keys)
        except BadRequest as exc:
            await self._refuse(held, str(exc))
            return
        unknown = sorted(set(request.options) - self._accepts)
        if unknown:
            flight = await self._take(held, request)
            if flight is not None:
                options = ", ".join(unknown)
                self._fail(flight, f"this runner node does not know the run option(s) {options} (upgrade it)")
            return
        flight = InFlight(request)
        self.inflight[request.run_id] = flight
        start: Callable[..., Run] = self.runner.run  # options: checked against its signature above
        run = start(request.code, name=request.name, timeout=request.timeout, **request.options)
        flight.run = run
        self._pumps.spawn(self._pump(flight, run), name=f"corobot-node-run-{request.run_id}")
        try:
            taken = await self._start_script(held, request)
        except RedisError:
            self._disown(flight)
            raise  # held again, and START tried again (it is idempotent: "2" = already this node's)
        if taken:
            flight.confirmed.set_result(True)
        else:
            self._disown(flight)

    def _disown(self, flight: InFlight) -> None:
        flight.confirmed.set_result(False)
        if flight.run is not None:
            flight.run.cancel()

    async def _start_script(self, held: Held, request: RunRequest) -> bool:
        k = self.keys
        hold = int((min(request.timeout, self.runner.limits.timeout_max) + HOLD_MARGIN) * 1000)
        args: list[str | int] = [request.run_id, self.node_id, held.entry_id, GROUP, hold, k.tag]
        started = await self.scripts.start(keys=[k.queue, k.running, k.requests], args=args)
        return int(started) > 0

    async def _take(self, held: Held, request: RunRequest) -> InFlight | None:
        """START, then the flight (None: it was stopped while it waited, or another node has it)."""
        if not await self._start_script(held, request):
            return None
        flight = InFlight(request)
        flight.confirmed.set_result(True)
        self.inflight[request.run_id] = flight
        return flight

    async def _refuse(self, held: Held, problem: str) -> None:
        """A request this node cannot read: its bot is told (when the request says who that is), else dropped."""
        self.stats.bad_requests += 1
        log.warning("runner node %s: request %s refused: %s", self.node_id, held.entry_id, problem)
        run, reply, owner = held.fields.get("run", ""), held.fields.get("reply", ""), held.fields.get("owner", "")
        if run.isdigit() and len(run) < 19 and self.keys.owns(reply):
            member = int(owner) if owner.isdigit() and len(owner) < 20 else None  # so its slot is given back
            flight = await self._take(held, RunRequest(int(run), "-", "request.py", 1.0, member, reply))
            if flight is not None:
                self._fail(flight, problem)
            return
        await self.redis.xack(self.keys.requests, GROUP, held.entry_id)
        await self.redis.xdel(self.keys.requests, held.entry_id)

    def _fail(self, flight: InFlight, why: str) -> None:
        self._post(flight, Started())
        self._post(flight, Finished(Status.ERROR, 0.0, error=f"the runner node could not run this: {why}"))

    async def _pump(self, flight: InFlight, run: Run) -> None:
        try:
            async for event in run:
                if not isinstance(event, Queued):  # places in the queue are the bots' business
                    self._post(flight, event)
        except asyncio.CancelledError:
            run.cancel()
            raise

    def _post(self, flight: InFlight, event: Event) -> None:
        self._outbox.put_nowait(Outgoing(flight, event))

    async def _send(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while len(batch) < BATCH and not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            await self._retry(functools.partial(self._send_batch, batch))
            for _ in batch:
                self._outbox.task_done()

    async def _send_batch(self, batch: list[Outgoing]) -> None:
        pending: list[Outgoing] = []
        for out in batch:
            if not await out.flight.confirmed:  # not this node's run after all: nothing of it is sent
                if isinstance(out.event, Finished):
                    self._forget(out.flight)
                continue
            if isinstance(out.event, Finished):
                await self._flush(pending)
                pending = []
                await self._finish(out)
            else:
                pending.append(out)
        await self._flush(pending)

    async def _flush(self, outs: list[Outgoing]) -> None:
        if not outs:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for out in outs:
                out.flight.seq += 1
                fields: dict[FieldT, EncodableT] = {
                    "r": out.flight.request.run_id,
                    "s": out.flight.seq,
                    "n": self.node_id,
                    "e": _json(out.event),
                }
                pipe.xadd(out.flight.request.reply, fields, maxlen=INBOX_BOUND, approximate=True)
            for inbox in {out.flight.request.reply for out in outs}:  # one whose bot is gone expires by itself
                pipe.pexpire(inbox, INBOX_TTL_MS)
            await pipe.execute()

    async def _finish(self, out: Outgoing) -> None:
        request, k = out.flight.request, self.keys
        event = out.event
        assert isinstance(event, Finished)
        done = await self.scripts.finish(
            keys=[k.running, request.reply], args=[request.run_id, self.node_id, _json(event), INBOX_BOUND, k.tag]
        )
        self._forget(out.flight)
        self.stats.runs[str(event.status)] += 1
        if not int(done):
            log.info("run %s ended (%s) after its bot gave up on it; nothing sent", request.run_id, event.status)
        self.state.wake.set()

    def _forget(self, flight: InFlight) -> None:
        if self.inflight.get(flight.request.run_id) is flight:
            del self.inflight[flight.request.run_id]
        self.state.wake.set()

    async def _retry(self, action: Callable[[], Awaitable[None]]) -> None:
        """Run `action()` until Redis takes it (events must not be lost to a short outage)."""
        failing = False
        while True:
            try:
                await action()
                if failing:
                    log.warning("runner node %s: Redis answers again", self.node_id)
                return
            except RedisError as exc:
                if not failing:
                    log.error("runner node %s: Redis failed (%s); retrying", self.node_id, exc)
                failing = True
                await asyncio.sleep(0.5)

    async def give_back_held(self) -> None:
        k = self.keys
        while self.held:
            held = self.held.popleft()
            fields = [part for pair in held.fields.items() for part in pair]
            run = held.fields.get("run", "")
            try:
                await self.scripts.give_back(keys=[k.queue, k.requests], args=[run, held.entry_id, GROUP, *fields])
            except RedisError as exc:
                log.warning("could not give back request %s (%s); another node claims it later", held.entry_id, exc)


def _json(event: Event) -> str:
    return json.dumps(event_to_dict(event), ensure_ascii=False)
