"""Child-side timing: concurrent vs sequential tasks, task lifecycles with names, loop blocking."""

from __future__ import annotations

import pytest

from bot.core.events import LoopBlocked, Status, TaskEvent
from bot.core.runner import Runner

from .conftest import LAG_LIMIT, LagProbe, collect, lines

pytestmark = pytest.mark.timeout(60)

TWO_TASKS = """\
import asyncio

async def say(what, delay):
    await asyncio.sleep(delay)
    print(what)

async def main():
    first = asyncio.create_task(say("hello", 1), name="first")
    second = asyncio.create_task(say("world", 1), name="second")
    await first
    await second

asyncio.run(main())
"""

SEQUENTIAL = """\
import asyncio

async def say(what, delay):
    await asyncio.sleep(delay)
    print(what)

async def main():
    await say("hello", 1)
    await say("world", 1)

asyncio.run(main())
"""

BLOCKING = """\
import asyncio
import time

async def main():
    print("go")
    time.sleep(1)
    await asyncio.sleep(0.1)

asyncio.run(main())
"""


async def test_two_tasks_run_concurrently_and_sequential_takes_twice(runner: Runner, lag: LagProbe) -> None:
    events, done = await collect(runner.run(TWO_TASKS, name="two-tasks.py"))
    seq_events, seq_done = await collect(runner.run(SEQUENTIAL, name="sequential.py"))
    assert done.status == Status.OK and seq_done.status == Status.OK
    both = lines(events)
    assert [o.text for o in both] == ["hello", "world"]
    assert all(0.95 <= o.t <= 1.3 for o in both), both
    assert 0.95 <= done.elapsed <= 1.4
    seq = lines(seq_events)
    assert 0.95 <= seq[0].t <= 1.3 and 1.95 <= seq[1].t <= 2.4, seq
    assert 1.95 <= seq_done.elapsed <= 2.5
    assert seq_done.elapsed - done.elapsed > 0.8  # relative structure: one extra second
    assert lag.worst < LAG_LIMIT


async def test_task_lifecycle_has_names(runner: Runner) -> None:
    events, _ = await collect(runner.run(TWO_TASKS, name="two-tasks.py"))
    tasks = [e for e in events if isinstance(e, TaskEvent)]
    by_name = {(e.name, e.event) for e in tasks}
    assert {("first", "created"), ("second", "created"), ("first", "done"), ("second", "done")} <= by_name
    created = {e.name: e.t for e in tasks if e.event == "created"}
    finished = {e.name: e.t for e in tasks if e.event == "done"}
    assert created["first"] < 0.5 and finished["first"] >= 0.95
    # the unnamed task asyncio.run creates shows as its coroutine, `main`, not `Task-1`
    assert ("main", "done") in by_name and not any(e.name.startswith("Task-") for e in tasks)


async def test_taskgroup_names_failures_and_cancellation(runner: Runner) -> None:
    code = """\
import asyncio

async def boom():
    raise ValueError("x")

async def forever():
    await asyncio.sleep(10)

async def main():
    waiter = asyncio.create_task(forever(), name="waiter")
    failing = asyncio.create_task(boom(), name="failing")
    await asyncio.sleep(0.05)
    waiter.cancel()
    async with asyncio.TaskGroup() as group:
        group.create_task(asyncio.sleep(0.01), name="in-group")

asyncio.run(main())
"""
    events, done = await collect(runner.run(code))
    assert done.status == Status.OK
    kinds = {(e.name, e.event) for e in events if isinstance(e, TaskEvent)}
    assert {("failing", "failed"), ("waiter", "cancelled"), ("in-group", "created"), ("in-group", "done")} <= kinds


async def test_blocking_call_reports_duration_and_line(runner: Runner) -> None:
    events, done = await collect(runner.run(BLOCKING, name="blocking.py"))
    assert done.status == Status.OK
    blocked = [e for e in events if isinstance(e, LoopBlocked)]
    assert len(blocked) == 1, blocked
    assert 0.95 <= blocked[0].duration <= 1.4
    assert blocked[0].line == 6
    assert blocked[0].t < 0.2


async def test_blocks_after_idle_periods_are_each_found_with_their_line(runner: Runner) -> None:
    # While the loop only waits, the watchdog thread parks; the next callback must wake it.
    code = (
        "import asyncio\nimport time\n\nasync def main():\n    await asyncio.sleep(0.5)\n    time.sleep(0.3)\n"
        "    await asyncio.sleep(0.5)\n    time.sleep(0.3)\n\nasyncio.run(main())\n"
    )
    events, done = await collect(runner.run(code, name="idle-then-block.py"))
    assert done.status == Status.OK
    blocked = [e for e in events if isinstance(e, LoopBlocked)]
    assert [b.line for b in blocked] == [6, 8], blocked
    assert all(0.25 <= b.duration <= 0.6 for b in blocked), blocked
    assert blocked[1].t - blocked[0].t >= 0.7


async def test_busy_loop_blocking_is_reported_at_timeout(runner: Runner) -> None:
    code = "import asyncio\n\nasync def main():\n    while True:\n        pass\n\nasyncio.run(main())\n"
    events, done = await collect(runner.run(code, name="spin.py", timeout=1.5))
    assert done.status == Status.TIMEOUT
    blocked = [e for e in events if isinstance(e, LoopBlocked)]
    assert len(blocked) == 1 and blocked[0].line in (4, 5) and blocked[0].duration > 1.0


async def test_unnamed_tasks_are_numbered_as_in_plain_python(runner: Runner) -> None:
    # The harness warms a loop up before the program starts; it must not use up Task-1.
    code = (
        "import asyncio\n\nasync def main():\n    print(asyncio.current_task().get_name())\n"
        "    await asyncio.create_task(asyncio.sleep(0))\n    print(len(asyncio.all_tasks()))\n\n"
        "asyncio.run(main())\n"
    )
    events, done = await collect(runner.run(code))
    assert done.status == Status.OK
    assert [o.text for o in lines(events)] == ["Task-1", "1"]
