"""A RemoteRunner and runner nodes in one process, over the real Redis, with real sandboxed runs: streaming,
admission across bot processes (two RemoteRunners = two processes' views), queue places, stops, quotas."""

from __future__ import annotations

import asyncio

import pytest

from bot.cluster.admission import WindowQuota
from bot.cluster.remote import RemoteRunner
from bot.core.errors import QueueFull, RunnerClosed, RunnersUnavailable, StartRateLimited, UserBusy
from bot.core.events import Event, Finished, Output, Queued, Started, Status
from bot.core.record import RunRecord, record_run
from bot.core.runs import RunLike
from bot.core.versions import PythonUnavailable

from .conftest import FAST, limits

pytestmark = pytest.mark.timeout(60)

HELLO = (
    "import asyncio\nasync def main():\n    print('Hello')\n    await asyncio.sleep(0.1)\n    print('World')\n"
    "asyncio.run(main())\n"
)
NAP = "import time\nprint('up', flush=True)\ntime.sleep(0.6)\nprint('done')\n"
FOREVER = "import time\nprint('up', flush=True)\ntime.sleep(100)\n"


async def collect(run: RunLike) -> tuple[list[Event], Finished]:
    events = [event async for event in run]
    assert isinstance(events[-1], Finished)
    return events, events[-1]


async def test_a_run_streams_through_a_node(cluster) -> None:
    async with cluster() as (remote, _nodes):
        run = await remote.submit(HELLO, name="hello.py", owner=7)
        record = RunRecord()
        async for event in run:
            record.add(event)
        assert record.finished is not None and record.finished.status == Status.OK, record.events
        assert record.stdout() == ["Hello", "World"]
        assert isinstance(record.events[0], Started) and isinstance(record.events[-1], Finished)
        assert 0.1 <= record.finished.elapsed < 5
        assert run.node == "n0"


async def test_record_run_and_a_refusal_raised_by_the_iterator(cluster) -> None:
    """The quizzes', `lessons check`'s and the console's way (`record_run` on the sync `run`) works unchanged,
    and a refusal that only Redis can give surfaces as the RunnerError record_run promises."""
    from bot.core.lessons import Example

    async with cluster() as (remote, _nodes):
        example = Example(id="hello", code=HELLO)
        record = await record_run(remote, example)
        assert record.status == Status.OK and record.stdout() == ["Hello", "World"]
        blocker = await remote.submit(FOREVER, owner=5)
        other = RemoteRunner(remote.redis, remote.keys, limits(), **FAST)  # another bot process
        async with other:
            with pytest.raises(UserBusy):
                await record_run(other, example, owner=5)
        blocker.cancel()
        await blocker.wait()


async def test_one_members_limit_holds_across_processes(cluster, redis, keys) -> None:
    """Two bot processes, the same member pressing Run 20 times at once in each: exactly one run is admitted."""
    async with cluster() as (first, _nodes):
        second = RemoteRunner(redis, keys, limits(), **FAST)
        async with second:
            attempts = [r.submit(NAP, owner=42) for r in (first, second) for _ in range(20)]
            results = await asyncio.gather(*attempts, return_exceptions=True)
            admitted = [r for r in results if not isinstance(r, BaseException)]
            refused = [r for r in results if isinstance(r, BaseException)]
            assert len(admitted) == 1, results
            assert all(isinstance(r, UserBusy) for r in refused)
            _, done = await collect(admitted[0])
            assert done.status == Status.OK
            again = await second.submit("print('again')", owner=42)  # the slot came back with the Finished
            assert (await again.wait()).status == Status.OK
            assert await redis.zcard(keys.user(42)) == 0


async def test_queue_places_are_global_and_move_up(cluster, redis, keys) -> None:
    async with cluster(node_limits={"max_concurrent": 1}) as (remote, _nodes):
        other = RemoteRunner(redis, keys, limits(), **FAST)
        async with other:
            first = await remote.submit(NAP, owner=1)
            second = await other.submit(NAP, owner=2)
            third = await remote.submit(NAP, owner=3)
            (e1, d1), (e2, d2), (e3, d3) = await asyncio.gather(collect(first), collect(second), collect(third))
            assert {d1.status, d2.status, d3.status} == {Status.OK}
            assert not any(isinstance(e, Queued) for e in e1)
            assert [e.position for e in e2 if isinstance(e, Queued)] == [1]
            assert [e.position for e in e3 if isinstance(e, Queued)] == [2, 1]
            started = next(i for i, e in enumerate(e3) if isinstance(e, Started))
            assert all(isinstance(e, Queued) for e in e3[:started])


async def test_queue_full_and_no_nodes(cluster, redis, keys) -> None:
    async with cluster(node_limits={"max_concurrent": 1}, queue_size=2) as (remote, nodes):
        runs = [await remote.submit(FOREVER) for _ in range(3)]  # one running, two waiting
        with pytest.raises(QueueFull):
            await remote.submit(FOREVER)
        for run in runs:
            run.cancel()
        for run in runs:
            assert (await run.wait()).status == Status.CANCELLED
        await nodes[0].stop()
        with pytest.raises(RunnersUnavailable):
            await remote.submit(HELLO)


async def test_quota_across_processes(cluster, redis, keys) -> None:
    quota = (WindowQuota("starts", 2, 60.0),)
    async with cluster(quotas=quota) as (remote, _nodes):
        other = RemoteRunner(redis, keys, limits(), quotas=quota, **FAST)
        async with other:
            assert (await (await remote.submit("print(1)", owner=9)).wait()).status == Status.OK
            assert (await (await other.submit("print(2)", owner=9)).wait()).status == Status.OK
            with pytest.raises(StartRateLimited) as refused:
                await remote.submit("print(3)", owner=9)
            assert 50 < refused.value.retry_after <= 60
            assert refused.value.params == {"count": 2, "per": 60.0, "retry": refused.value.retry_after}
            assert (await (await other.submit("print(4)", owner=10)).wait()).status == Status.OK  # others are not


async def test_stop_reaches_the_node_and_queued_runs_end_at_once(cluster, redis, keys) -> None:
    async with cluster(node_limits={"max_concurrent": 1}, per_user=2) as (remote, nodes):
        running = await remote.submit(FOREVER, owner=7)
        waiting = await remote.submit("print('never')", owner=7)
        async for event in running:
            if isinstance(event, Output):
                break
        other = RemoteRunner(redis, keys, limits(), **FAST)  # /stop may come from anywhere: the node is told
        async with other:
            assert remote.cancel_owner(7) == 2
            _, done = await collect(running)
            assert done.status == Status.CANCELLED and done.elapsed < 5
            w_events, w_done = await collect(waiting)
            assert w_done.status == Status.CANCELLED and not any(isinstance(e, Output) for e in w_events)
        for _ in range(100):  # the node may have launched the stopped one before learning it was stopped
            if not nodes[0].inflight:
                break
            await asyncio.sleep(0.05)
        assert not nodes[0].inflight and nodes[0].stats.runs["ok"] == 0
        assert await redis.hlen(keys.running) == 0 and await redis.zcard(keys.queue) == 0


async def test_closed_runner_refuses(cluster) -> None:
    async with cluster() as (remote, _nodes):
        pass
    with pytest.raises(RunnerClosed):
        remote.run(HELLO)
    with pytest.raises(RunnerClosed):
        remote.check_admission(1)


async def test_a_stopping_node_gives_back_what_it_held(cluster, redis, keys) -> None:
    """A node with prefetch holds requests it has not started; a clean stop puts them back, in their place."""
    async with cluster(nodes=1, prefetch=3, node_limits={"max_concurrent": 1}) as (remote, nodes):
        first = await remote.submit(NAP)
        queued = [await remote.submit(f"print({i})") for i in range(3)]
        async for event in first:
            if isinstance(event, Output):
                break
        await asyncio.sleep(0.3)
        assert len(nodes[0].held) == 3  # read, not started (its only slot is busy)
        from bot.cluster.node import RunnerNode
        from bot.core.runner import Runner

        async with Runner(limits(max_concurrent=1)) as spare_runner:
            spare = RunnerNode(redis, keys, spare_runner, node_id="spare", **FAST)
            await spare.start()
            stopping = asyncio.create_task(nodes[0].stop())
            results = [await run.wait() for run in queued]
            assert [r.status for r in results] == [Status.OK] * 3
            await stopping
            assert (await first.wait()).status == Status.OK  # the running one finished within the drain
            await spare.stop()
        nodes.clear()


VERSION = "import sys\nprint('%d.%d' % sys.version_info[:2])\n"


async def test_a_version_comparison_through_the_nodes(cluster, redis, keys) -> None:
    """Nodes advertise their Pythons; a comparison's runs are admitted together, run on their versions, and hold
    one slot of their member's until the last of them ends."""
    async with cluster(node_limits={"pythons": "auto", "max_concurrent": 4}) as (remote, nodes):
        offered = nodes[0].runner.pythons.versions
        if len(offered) < 2:
            pytest.skip(f"one Python here ({offered}); the comparison needs two (pyenv 3.12, 3.13)")
        await remote._look()
        assert remote.pythons.versions == offered
        pair = offered[:2]
        runs = await remote.submit_versions(VERSION + "import time\ntime.sleep(0.5)\n", pair, owner=3)
        with pytest.raises(UserBusy):
            await remote.submit(VERSION, owner=3)  # the comparison is one run of the member's
        printed = []
        for run in runs:
            events, done = await collect(run)
            assert done.status == Status.OK
            printed.append([e.text for e in events if isinstance(e, Output)])
        assert printed == [[v] for v in pair]
        again = await remote.submit(VERSION, owner=3, python=pair[1])
        assert (await again.wait()).status == Status.OK
        with pytest.raises(PythonUnavailable):
            remote.run(VERSION, python="3.99")


async def test_runs_stream_again_after_redis_lost_its_data(cluster, redis, keys) -> None:
    """Redis restarted empty: the inbox, the group, the nodes' registrations are gone; within a heartbeat or two
    everything is made again and runs work."""
    async with cluster() as (remote, _nodes):
        assert (await (await remote.submit(HELLO)).wait()).status == Status.OK
        async for key in redis.scan_iter(match=keys.tag + ":*"):
            await redis.delete(key)
        for _ in range(100):
            try:
                run = await remote.submit(HELLO)
            except RunnersUnavailable:  # until the nodes' next heartbeat
                await asyncio.sleep(0.05)
                continue
            break
        finished = await asyncio.wait_for(run.wait(), 20)
        assert finished.status == Status.OK and await redis.exists(remote.inbox)
