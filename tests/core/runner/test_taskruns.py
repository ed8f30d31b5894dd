"""Who runs and who waits, measured in real runs: run segments, the await each task waits on, the caps.

Every test runs a real program through the real runner (the warm worker, the sandbox) and looks at the
`TaskRuns` / `TaskParked` / `RunsCapped` events and at the text timeline drawn from them.  Times are compared
by structure (a task ran for most of its life, the other for a few milliseconds), never by exact values.
"""

from __future__ import annotations

import time

import pytest

from bot.core.events import RunSegment, Status
from bot.core.record import RunRecord
from bot.core.runner import Runner
from bot.core.runner.process import MAX_SEGMENTS
from bot.core.timeline import BLOCKED, RUNNING, WAITING, render_timeline, task_spans

from .conftest import MakeRunner

pytestmark = pytest.mark.timeout(90)


async def record(runner: Runner, code: str, *, limit: float | None = None) -> RunRecord:
    """The run's events; `limit` is its timeout."""
    result = RunRecord("prog.py")
    async for event in runner.run(code, name="prog.py", timeout=limit):
        result.add(event)
    assert result.finished is not None
    return result


def segments_of(run: RunRecord, name: str) -> list[RunSegment]:
    ids = {s.task_id for s in task_spans(run.events) if s.name == name}
    assert len(ids) == 1, f"no single task {name!r}: {[s.name for s in task_spans(run.events)]}"
    return [s for s in run.segments if s.task_id in ids]


def life(run: RunRecord, name: str) -> tuple[float, float]:
    span = next(s for s in task_spans(run.events) if s.name == name)
    assert span.end is not None
    return span.start, span.end


def lane(drawing: str, name: str) -> str:
    """The cells of a task's row, from its first to its last non-blank cell."""
    rows = [line for line in drawing.splitlines() if line.split(" ", 1)[0] == name]
    assert len(rows) == 1, drawing
    axis = next(line for line in drawing.splitlines() if line.lstrip().startswith("+-"))
    return rows[0][len(axis) - len(axis.lstrip()) :].strip()


CHUNKED_CPU = """\
import asyncio, time

async def crunch():
    end = time.perf_counter() + 0.6
    while time.perf_counter() < end:
        chunk = time.perf_counter() + 0.002
        while time.perf_counter() < chunk:
            pass
        await asyncio.sleep(0)  # yields, but nobody else is ready

async def waiter(done):
    await done.wait()

async def main():
    done = asyncio.Event()
    other = asyncio.create_task(waiter(done), name="waiter")
    await asyncio.create_task(crunch(), name="cpu")
    done.set()
    await other

asyncio.run(main())
"""


async def test_a_cpu_bound_task_runs_its_whole_life_while_the_other_waits(runner: Runner) -> None:
    run = await record(runner, CHUNKED_CPU)
    assert run.status == Status.OK, run.finished
    start, end = life(run, "cpu")
    cpu = segments_of(run, "cpu")
    assert sum(s.busy for s in cpu) > 0.85 * (end - start)  # it held the loop nearly all its life
    assert len(cpu) <= 20  # steps microseconds apart merge into few segments
    waiter = segments_of(run, "waiter")
    assert sum(s.busy for s in waiter) < 0.02 and len(waiter) == 2  # its first step and its wake-up
    drawing = render_timeline(run, width=60)
    assert set(lane(drawing, "cpu")) == {RUNNING}, drawing
    inner = lane(drawing, "waiter")[1:-1]
    assert inner and set(inner) <= {WAITING, RUNNING} and inner.count(WAITING) >= len(inner) - 2, drawing
    assert "waiting (at an await)" in drawing and "running" in drawing


BLOCKING_CPU = """\
import asyncio, time

async def crunch():
    await asyncio.sleep(0.1)
    end = time.perf_counter() + 0.5
    while time.perf_counter() < end:  # no await: the loop is blocked
        pass

async def ticker():
    for _ in range(10):
        await asyncio.sleep(0.05)

async def main():
    await asyncio.gather(asyncio.create_task(crunch(), name="cpu"), asyncio.create_task(ticker(), name="ticker"))

asyncio.run(main())
"""


async def test_a_task_that_blocks_the_loop_is_solid_and_everyone_else_is_blocked(runner: Runner) -> None:
    run = await record(runner, BLOCKING_CPU)
    assert run.status == Status.OK and len(run.blocked) == 1
    block = run.blocked[0]
    longest = max(segments_of(run, "cpu"), key=lambda s: s.busy)
    assert longest.busy >= 0.45 and longest.start <= block.t + 0.01 and longest.end >= block.t + block.duration - 0.01
    # the ticker ran only outside the block
    inside = [s for s in segments_of(run, "ticker") if block.t + 0.01 < s.start < block.t + block.duration - 0.01]
    assert inside == []
    drawing = render_timeline(run, width=60)
    cpu, ticker = lane(drawing, "cpu"), lane(drawing, "ticker")
    assert cpu.count(RUNNING) >= 0.7 * len(cpu), drawing
    assert BLOCKED in ticker and ticker.count(BLOCKED) >= 0.6 * cpu.count(RUNNING), drawing


TWO_SLEEPERS = """\
import asyncio

async def say(n):
    await asyncio.sleep(0.6)
    print("done", n)

async def main():
    a = asyncio.create_task(say(1), name="say-1")
    b = asyncio.create_task(say(2), name="say-2")
    await a
    await b

asyncio.run(main())
"""


async def test_two_sleeping_tasks_wait_with_running_slivers_at_their_steps(runner: Runner) -> None:
    run = await record(runner, TWO_SLEEPERS)
    assert run.status == Status.OK
    drawing = render_timeline(run, width=60)
    for name in ("say-1", "say-2"):
        runs = segments_of(run, name)
        assert len(runs) == 2, runs  # started, woke up
        assert all(s.busy < 0.01 for s in runs)
        assert runs[1].start - runs[0].end > 0.5
        assert runs[0].wait_line is None and runs[1].wait_line == 4  # `await asyncio.sleep(0.6)`
        cells = lane(drawing, name)
        assert cells[0] == RUNNING and cells[-1] == RUNNING and set(cells[1:-1]) == {WAITING}, drawing
    # one task runs at a time: the two tasks' segments never overlap
    one, two = segments_of(run, "say-1"), segments_of(run, "say-2")
    assert all(a.end <= b.start or b.end <= a.start for a in one for b in two)


SEMAPHORE = """\
import asyncio


async def fetch():
    await asyncio.sleep(0.2)


async def download(n, sem):
    async with sem:
        await fetch()


async def main():
    sem = asyncio.Semaphore(2)
    async with asyncio.TaskGroup() as tg:
        for n in range(1, 6):
            tg.create_task(download(n, sem), name=f"job-{n}")


asyncio.run(main())
"""


async def test_the_suspension_line_points_at_the_await_the_task_is_parked_on(runner: Runner) -> None:
    run = await record(runner, SEMAPHORE)
    assert run.status == Status.OK
    for name in ("job-1", "job-2"):  # got a permit at once: waited only in fetch's sleep
        assert [s.wait_line for s in segments_of(run, name)] == [None, 5]
    for name in ("job-3", "job-4", "job-5"):  # queued at `async with sem`, then in fetch's sleep
        lines = [s.wait_line for s in segments_of(run, name)]
        assert lines[0] is None and 9 in lines and lines[-1] == 5, (name, lines)
        first_wait = segments_of(run, name)[1].start - segments_of(run, name)[0].end
        assert first_wait > 0.15  # queued for at least one wave
    main_lines = {s.wait_line for s in segments_of(run, "main")}
    assert 15 in main_lines  # the TaskGroup's `async with`, where main waits for its children


STUCK = """\
import asyncio

async def stuck():
    await asyncio.Event().wait()

async def main():
    asyncio.create_task(stuck(), name="stuck")
    await asyncio.sleep(30)

asyncio.run(main())
"""


async def test_a_run_killed_while_tasks_wait_keeps_their_await_lines(runner: Runner) -> None:
    run = await record(runner, STUCK, limit=1.0)
    assert run.status == Status.TIMEOUT
    spans = {s.task_id: s.name for s in task_spans(run.events)}
    parked = {spans.get(p.task_id): p.line for p in run.parked}
    assert parked.get("stuck") == 4 and parked.get("main") == 8, parked
    drawing = render_timeline(run, width=60)
    assert lane(drawing, "stuck").endswith(">") and WAITING in lane(drawing, "stuck"), drawing


SWITCH_FLOOD = """\
import asyncio

async def worker():
    for _ in range(50):
        await asyncio.sleep(0)

async def main():
    await asyncio.gather(*(worker() for _ in range(2000)))
    print("switched")

asyncio.run(main())
"""


async def test_caps_hold_on_a_program_with_100000_switches(make_runner: MakeRunner) -> None:
    runner = await make_runner(timeout_default=60.0, timeout_max=60.0)
    run = await record(runner, SWITCH_FLOOD)
    assert run.status == Status.OK and [line.text for line in run.lines] == ["switched"]
    assert 0 < len(run.segments) <= MAX_SEGMENTS
    assert len(run.events) < 2000 * 2 + MAX_SEGMENTS // 100 + 100  # task events and a few hundred batches
    if run.runs_capped is not None:
        assert 0 <= run.runs_capped.t <= (run.elapsed or 0) and run.runs_capped.segments <= MAX_SEGMENTS
    start = time.perf_counter()
    drawing = render_timeline(run, width=56)
    assert time.perf_counter() - start < 0.5
    assert "more tasks not shown" in drawing
