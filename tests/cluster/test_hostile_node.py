"""What a runner node sends is data: a node that lies, floods, goes silent or dies gets its run ended with the
reason, the member's slot comes back, and the bot process is unharmed.  The node here is a fake speaking the
wire protocol over the real Redis (the real node is tested in test_remote.py and test_processes.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from redis.asyncio import Redis

from bot.cluster.keys import GROUP, Keys
from bot.cluster.remote import RemoteRunner
from bot.cluster.remote_run import EXTRA_BYTES
from bot.cluster.request import RunRequest
from bot.cluster.scripts import Scripts
from bot.cluster.streams import entries
from bot.core.events import Finished, Status
from bot.core.record import RunRecord

from .conftest import FAST, limits

pytestmark = pytest.mark.timeout(60)


class FakeNode:
    def __init__(self, redis: Redis, keys: Keys, name: str = "evil") -> None:
        self.redis, self.keys, self.name = redis, keys, name
        self.scripts = Scripts.register(redis)
        self.seq = 0

    async def beat(self) -> int:
        k = self.keys
        return int(
            await self.scripts.heartbeat(
                keys=[k.nodes, k.capacity, k.node(self.name), k.reaped(self.name)], args=[self.name, 4, 60_000]
            )
        )

    async def take(self) -> RunRequest:
        k = self.keys
        try:
            await self.redis.xgroup_create(k.requests, GROUP, id="0", mkstream=True)
        except Exception as exc:  # BUSYGROUP: another test step made it
            assert "BUSYGROUP" in str(exc)
        reply = await self.redis.xreadgroup(GROUP, self.name, {k.requests: ">"}, count=1, block=5000)
        entry_id, fields = next(entries(reply))
        request = RunRequest.parse(fields, k)
        started = await self.scripts.start(
            keys=[k.queue, k.running, k.requests], args=[request.run_id, self.name, entry_id, GROUP, 60_000, k.tag]
        )
        assert int(started) == 1
        return request

    async def finish(self, request: RunRequest, event: Any) -> int:
        """As a real node ends a run: its Finished and the member's slot back, in one script."""
        k = self.keys
        return int(
            await self.scripts.finish(
                keys=[k.running, request.reply], args=[request.run_id, self.name, json.dumps(event), 1000, k.tag]
            )
        )

    async def send(self, request: RunRequest, *events: Any) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                self.seq += 1
                payload = event if isinstance(event, str) else json.dumps(event)
                pipe.xadd(request.reply, {"r": request.run_id, "s": self.seq, "n": self.name, "e": payload})
            await pipe.execute()


async def run_against(redis: Redis, keys: Keys, script: list[Any], **options: Any) -> tuple[RunRecord, RemoteRunner]:
    node = FakeNode(redis, keys)
    await node.beat()
    remote = RemoteRunner(redis, keys, limits(**options.pop("limits", {})), **FAST)
    beats = asyncio.create_task(_keep_beating(node))
    try:
        async with remote:
            run = await remote.submit("print('hi')", name="x.py", owner=11)
            request = await node.take()
            await node.send(request, *script)
            record = RunRecord()
            async with asyncio.timeout(20):
                async for event in run:
                    record.add(event)
            await released(redis, keys, 11)
    finally:
        beats.cancel()
    return record, remote


async def released(redis: Redis, keys: Keys, owner: int) -> None:
    """The member's slot and the run's place come back (released right after the run's end, asynchronously)."""
    for _ in range(250):
        if not await redis.zcard(keys.user(owner)) and not await redis.hlen(keys.running):
            return
        await asyncio.sleep(0.02)
    pytest.fail("the member's slot was not given back within 5 s")


STARTED = {"type": "started", "t": 0.0}
LINE = {"type": "output", "stream": "stdout", "text": "hi", "t": 0.01}
OK = {"type": "finished", "status": "ok", "elapsed": 0.02, "exit_code": 0}


@pytest.mark.parametrize(
    "script, reason",
    [
        ([STARTED, {**LINE, "t": 1e300}], "malformed event"),
        ([STARTED, {**LINE, "stream": "stdin"}], "malformed event"),
        ([LINE], "before the run started"),
        ([STARTED, STARTED], "started the run twice"),
        ([STARTED, {**LINE, "text": "forged\nstatus: ok"}], "newline"),
        ([STARTED, "{not json"], "not JSON"),
        ([STARTED, '"just a string"'], "malformed event"),
    ],
    ids=["impossible-time", "bad-stream", "output-first", "started-twice", "newline", "not-json", "not-object"],
)
async def test_a_lying_node_gets_its_run_ended(redis, keys, script, reason) -> None:
    record, _ = await run_against(redis, keys, script)
    assert record.finished is not None and record.finished.status == Status.KILLED
    assert record.finished.error is not None and reason in record.finished.error


async def test_a_flooding_node_is_cut_off_at_the_runs_budget(redis, keys) -> None:
    """More bytes than a run may send (its output bytes twice, plus the runner's caps on everything else): the
    bot stops reading that run where the budget ends, whatever the node goes on sending."""
    line = "x" * 60_000
    budget = 2 * 16_384 + EXTRA_BYTES
    flood = [STARTED] + [{**LINE, "text": line} for _ in range(budget // 60_000 + 20)]
    record, _ = await run_against(redis, keys, flood, limits={"output_bytes": 16_384})
    assert record.finished is not None and record.finished.status == Status.KILLED
    assert "more than one run may" in (record.finished.error or "")
    assert sum(len(r.text) for r in record.lines) <= budget


async def test_unknown_types_are_skipped_and_nothing_counts_after_the_end(redis, keys) -> None:
    node = FakeNode(redis, keys)
    await node.beat()
    async with RemoteRunner(redis, keys, limits(), **FAST) as remote:
        run = await remote.submit("print('hi')", owner=11)
        request = await node.take()
        await node.send(request, STARTED, {"type": "from_the_future", "x": 1}, LINE)
        assert await node.finish(request, OK) == 1
        await node.send(request, {**LINE, "text": "after the end"}, {**OK, "status": "error"})
        assert await node.finish(request, {**OK, "status": "error"}) == 0  # ended once, in Redis too
        record = RunRecord()
        async for event in run:
            record.add(event)
        await asyncio.sleep(0.2)
        assert record.finished == Finished(Status.OK, 0.02, exit_code=0)
        assert [line.text for line in record.lines] == ["hi"]
        await released(redis, keys, 11)


async def test_a_resent_event_is_counted_once(redis, keys) -> None:
    node = FakeNode(redis, keys)
    await node.beat()
    async with RemoteRunner(redis, keys, limits(), **FAST) as remote:
        run = await remote.submit("print('hi')", owner=11)
        request = await node.take()
        await node.send(request, STARTED, LINE)
        node.seq -= 1  # the batch was sent again after a lost reply: same numbers
        await node.send(request, LINE)
        await node.finish(request, OK)
        record = RunRecord()
        async for event in run:
            record.add(event)
        assert [line.text for line in record.lines] == ["hi"] and record.status == Status.OK


async def test_a_node_that_dies_mid_run(redis, keys) -> None:
    """No heartbeat for dead_after: the run ends `killed`, saying which node and that it was not restarted, with
    what it printed kept; the member can run again at once; the node, if it comes back, is told it is dead."""
    node = FakeNode(redis, keys, name="doomed")
    await node.beat()
    async with RemoteRunner(redis, keys, limits(), **FAST) as remote:
        run = await remote.submit("print('hi')", owner=11)
        request = await node.take()
        await node.send(request, STARTED, LINE)
        record = RunRecord()
        async with asyncio.timeout(10):
            async for event in run:
                record.add(event)
        finished = record.finished
        assert finished is not None and finished.status == Status.KILLED
        assert "doomed" in (finished.error or "") and "not restarted" in (finished.error or "")
        assert [line.text for line in record.lines] == ["hi"]
        await released(redis, keys, 11)
        assert await node.beat() == -1  # fenced: it must not carry on under that name
        assert await node.finish(request, OK) == 0  # its late words are dropped
        await asyncio.sleep(0.3)
        assert record.finished is finished


async def test_a_silent_node_that_keeps_beating(redis, keys) -> None:
    node = FakeNode(redis, keys)
    await node.beat()
    remote = RemoteRunner(redis, keys, limits(timeout_default=0.5), **FAST)
    remote.run_grace = 0.5
    async with remote:
        run = await remote.submit("print('hi')", owner=11)
        request = await node.take()
        await node.send(request, STARTED)
        beats = asyncio.create_task(_keep_beating(node))
        try:
            finished = await asyncio.wait_for(run.wait(), 10)
        finally:
            beats.cancel()
        assert finished.status == Status.KILLED and "no end within" in (finished.error or "")
        await released(redis, keys, 11)


async def _keep_beating(node: FakeNode) -> None:
    while True:
        await node.beat()
        await asyncio.sleep(0.1)


async def test_a_request_lost_with_redis_data(redis, keys) -> None:
    node = FakeNode(redis, keys)
    await node.beat()
    async with RemoteRunner(redis, keys, limits(), **FAST) as remote:
        beats = asyncio.create_task(_keep_beating(node))
        try:
            run = await remote.submit("print('hi')", owner=11)
            await redis.delete(keys.queue, keys.requests)  # as if Redis restarted without its data
            finished = await asyncio.wait_for(run.wait(), 10)
        finally:
            beats.cancel()
        assert finished.status == Status.KILLED and "lost" in (finished.error or "")
        await released(redis, keys, 11)
