"""Admission: FIFO queue with positions, per-user limit, queue full, cancellation, close, worker death."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import pytest

from bot.core.errors import QueueFull, RunnerClosed, UserBusy
from bot.core.events import Output, Queued, Started, Status
from bot.core.runner import Runner

from .conftest import MakeRunner, collect, lines

pytestmark = pytest.mark.timeout(60)

NAP = "import time\ntime.sleep(0.5)\nprint('done')\n"


async def test_queue_positions_in_order(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner(max_concurrent=1)
    first = runner.run(NAP, owner=1)
    second = runner.run(NAP, owner=2)
    third = runner.run(NAP, owner=3)
    assert runner.active == 1 and runner.queued == 2
    results = await asyncio.gather(collect(first), collect(second), collect(third))
    (e1, d1), (e2, d2), (e3, d3) = results
    assert all(d.status == Status.OK for d in (d1, d2, d3))
    assert not any(isinstance(e, Queued) for e in e1)
    queued2 = [e.position for e in e2 if isinstance(e, Queued)]
    queued3 = [e.position for e in e3 if isinstance(e, Queued)]
    assert queued2 == [1]
    assert queued3 == [2, 1]
    started = [i for i, e in enumerate(e3) if isinstance(e, Started)]
    assert started and all(isinstance(e, Queued) for e in e3[: started[0]])


async def test_per_user_limit(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner(per_user=1)
    run = runner.run(NAP, owner=42)
    with pytest.raises(UserBusy):
        runner.run(NAP, owner=42)
    other = runner.run(NAP, owner=43)  # someone else is fine
    await run.wait()
    again = runner.run("print(1)", owner=42)  # free again once finished
    assert (await again.wait()).status == Status.OK
    await other.wait()


async def test_queue_full(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner(max_concurrent=1, queue_size=1)
    a = runner.run(NAP)
    b = runner.run(NAP)
    with pytest.raises(QueueFull):
        runner.run(NAP)
    await asyncio.gather(a.wait(), b.wait())


async def test_cancel_owner_running_and_queued(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner(max_concurrent=1, per_user=2)
    running = runner.run("import time\nprint('up', flush=True)\ntime.sleep(100)\n", owner=7)
    waiting = runner.run("print('never')", owner=7)
    bystander = runner.run("print('still runs')", owner=8)
    async for event in running:
        if isinstance(event, Output):
            break
    assert runner.cancel_owner(7) == 2
    _, done = await collect(running)
    assert done.status == Status.CANCELLED
    assert done.elapsed < 5
    w_events, w_done = await collect(waiting)
    assert w_done.status == Status.CANCELLED and not lines(w_events)
    _, b_done = await collect(bystander)
    assert b_done.status == Status.OK


async def test_run_cancel_keeps_output(runner: Runner) -> None:
    run = runner.run("import time\nprint('one', flush=True)\ntime.sleep(100)\n")
    seen = []
    async for event in run:
        seen.append(event)
        if isinstance(event, Output):
            run.cancel()
    assert [e.text for e in seen if isinstance(e, Output)] == ["one"]
    assert run.result is not None and run.result.status == Status.CANCELLED


async def test_close_cancels_everything(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner()
    runs = [runner.run("import time\ntime.sleep(100)\n") for _ in range(3)]
    await asyncio.sleep(0.2)
    await runner.close()
    for run in runs:
        assert (await run.wait()).status == Status.CANCELLED
    with pytest.raises(RunnerClosed):
        runner.run("print(1)")


async def test_dead_worker_is_replaced(runner: Runner) -> None:
    assert (await runner.run("print(1)").wait()).status == Status.OK
    worker = runner._worker
    assert worker is not None and worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    await asyncio.sleep(0.2)
    events, done = await collect(runner.run("print('again')"))
    assert done.status == Status.OK
    assert [o.text for o in lines(events)] == ["again"]
    assert runner._worker is not None and runner._worker.pid != worker.pid


async def test_slow_consumer_loses_nothing(runner: Runner) -> None:
    run = runner.run("for i in range(500):\n    print(i)\n")
    await asyncio.sleep(0.5)  # everything is produced before we read
    events, done = await collect(run)
    assert done.status == Status.OK
    assert [o.text for o in lines(events)] == [str(i) for i in range(500)]


async def test_a_burst_of_runs_all_finish(make_runner: MakeRunner) -> None:
    # Enough simultaneous submissions to fill the worker socket: every waiting sender must be woken.
    runner: Runner = await make_runner(max_concurrent=150, queue_size=10, per_user=1000)
    assert runner._worker is not None and runner._worker._sock is not None
    runner._worker._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # make senders wait
    runs = [runner.run(f"print({i})", timeout=20) for i in range(150)]
    results = await asyncio.wait_for(asyncio.gather(*(collect(run) for run in runs)), 40)
    assert [d.status for _, d in results] == [Status.OK] * 150
    assert [lines(e)[0].text for e, _ in results] == [str(i) for i in range(150)]


async def test_a_cancelled_runs_task_ends_cancelled_after_its_finished(make_runner: MakeRunner) -> None:
    """The owned-task pattern: the run's task re-raises CancelledError once its last event is out."""
    runner: Runner = await make_runner(max_concurrent=1)
    running = runner.run("import time\ntime.sleep(30)\n", owner=1)
    queued = runner.run("print('never')", owner=2)
    await asyncio.sleep(0.3)
    assert runner.cancel_owner(1) == 1 and runner.cancel_owner(2) == 1
    for run in (running, queued):
        done = await run.wait()
        assert done.status == Status.CANCELLED
        assert run._task is not None
        await asyncio.gather(run._task, return_exceptions=True)
        assert run._task.cancelled()
    assert runner.active == 0 and runner.queued == 0
    assert (await runner.run("print('after')").wait()).status == Status.OK


async def test_a_run_cancelled_before_its_task_ran_still_ends(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner()
    run = runner.run("print('x')", owner=5)
    run.cancel()  # before the task's first step: its body, and its finally, never run
    done = await asyncio.wait_for(run.wait(), 5)
    assert done.status == Status.CANCELLED
    await asyncio.sleep(0)
    assert runner.active == 0 and runner.free_slots == runner.slots
    assert (await runner.run("print('y')", owner=5).wait()).status == Status.OK  # not "busy" forever
