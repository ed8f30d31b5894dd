"""The text timeline: overlap vs no overlap, marks, widths; from hand-built events and from real runs."""

from __future__ import annotations

import pytest

from bot.config import RunnerSettings
from bot.core.events import (
    Event,
    Finished,
    LoopBlocked,
    Output,
    RunsCapped,
    RunSegment,
    Started,
    Status,
    TaskEvent,
    TaskRuns,
)
from bot.core.runner import Runner
from bot.core.timeline import (
    BAR,
    BLOCKED,
    CANCELLED,
    FAILED,
    RUNNING,
    UNFINISHED,
    UNMEASURED,
    WAITING,
    RunRecord,
    format_offset,
    render_timeline,
    task_spans,
)

MARKS = {BAR, CANCELLED, FAILED, UNFINISHED}


def _row(text: str, label: str) -> str:
    rows = [line for line in text.splitlines() if line.split(" ", 1)[0] == label]
    assert len(rows) == 1, f"no single row labelled {label!r} in:\n{text}"
    return rows[0]


def _cells(text: str, label: str) -> set[int]:
    """Columns (relative to the bar area) that the task occupies."""
    row = _row(text, label)
    axis = next(line for line in text.splitlines() if line.lstrip().startswith("+-"))
    origin = len(axis) - len(axis.lstrip())
    return {i - origin for i, ch in enumerate(row) if i >= origin and ch in MARKS | {BLOCKED}}


def _two_tasks(concurrent: bool, *, end_a: str = "done", end_b: str = "done") -> list[Event]:
    events: list[Event] = [Started(), TaskEvent("main", "created", 0.0, 1)]
    if concurrent:
        events += [
            TaskEvent("say-1", "created", 0.001, 2),
            TaskEvent("say-2", "created", 0.001, 3),
            Output("stdout", "hello", 1.002),
            TaskEvent("say-1", end_a, 1.002, 2),  # type: ignore[arg-type]
            TaskEvent("say-2", end_b, 1.003, 3),  # type: ignore[arg-type]
        ]
        end = 1.004
    else:
        events += [
            TaskEvent("say-1", "created", 0.001, 2),
            TaskEvent("say-1", end_a, 1.002, 2),  # type: ignore[arg-type]
            TaskEvent("say-2", "created", 1.002, 3),
            TaskEvent("say-2", end_b, 2.004, 3),  # type: ignore[arg-type]
        ]
        end = 2.005
    return [*events, TaskEvent("main", "done", end, 1), Finished(Status.OK, end)]


def test_format_offset() -> None:
    assert format_offset(1.0021) == "+1.002s"
    assert format_offset(0) == "+0.000s"
    assert format_offset(-0.0001) == "+0.000s"


def test_concurrent_tasks_overlap() -> None:
    text = render_timeline(_two_tasks(concurrent=True))
    a, b, main = _cells(text, "say-1"), _cells(text, "say-2"), _cells(text, "main")
    assert a & b, text
    assert len(a & b) > len(a) * 0.9  # nearly the whole bars coincide
    assert a | b <= main


def test_sequential_tasks_do_not_overlap() -> None:
    text = render_timeline(_two_tasks(concurrent=False))
    a, b = _cells(text, "say-1"), _cells(text, "say-2")
    assert a and b
    assert not a & b, text
    assert max(a) + 1 == min(b), "sequential tasks should touch: one starts where the other ends"
    assert abs(len(a) - len(b)) <= 1  # both last about 1 s


def test_axis_shows_zero_and_end_time() -> None:
    text = render_timeline(_two_tasks(concurrent=False))
    labels = text.splitlines()[-1] if "cancelled" not in text else text.splitlines()[-2]
    assert labels.split()[0] == "0"
    assert labels.split()[-1] == "2.005s"


def test_marks_for_cancelled_failed_and_pending() -> None:
    events: list[Event] = [
        TaskEvent("main", "created", 0.0, 1),
        TaskEvent("victim", "created", 0.1, 2),
        TaskEvent("victim", "cancelled", 0.5, 2),
        TaskEvent("crash", "created", 0.1, 3),
        TaskEvent("crash", "failed", 0.7, 3),
        TaskEvent("orphan", "created", 0.2, 4),
        TaskEvent("main", "done", 1.0, 1),
        Finished(Status.OK, 1.0),
    ]
    text = render_timeline(events)
    assert _row(text, "victim").rstrip().endswith(CANCELLED)
    assert _row(text, "crash").rstrip().endswith(FAILED)
    assert _row(text, "orphan").rstrip().endswith(UNFINISHED)
    assert _row(text, "main").rstrip().endswith(BAR)
    assert "x cancelled" in text and "! failed" in text and "> pending at exit" in text
    # the cancelled task stops about half way, the failed one later
    assert max(_cells(text, "victim")) < max(_cells(text, "crash")) < max(_cells(text, "main"))


def test_loop_blocked_row() -> None:
    events = [*_two_tasks(concurrent=True)[:-1], LoopBlocked(0.25, 0.5, line=7), Finished(Status.OK, 1.004)]
    text = render_timeline(events)
    blocked = _cells(text, "blocked")
    columns = len(_cells(text, "main"))
    assert blocked
    assert min(blocked) >= columns * 0.4 and max(blocked) <= columns * 0.8
    assert "event loop blocked" in text


@pytest.mark.parametrize("width", [24, 40, 60, 80])
def test_every_line_fits_width(width: int) -> None:
    events: list[Event] = [TaskEvent("a-task-with-an-extremely-long-name-" * 3, "created", 0.0, 1)]
    events += [TaskEvent(f"worker-{i}", "created", i * 0.01, i + 2) for i in range(5)]
    events += [TaskEvent(f"worker-{i}", "cancelled", 0.5 + i * 0.2, i + 2) for i in range(5)]
    events += [LoopBlocked(0.3, 0.2), Finished(Status.OK, 1.7)]
    text = render_timeline(events, width=width)
    assert text
    assert all(len(line) <= width for line in text.splitlines()), text
    assert "…" in text  # the long name was truncated


def test_many_tasks_are_summarised() -> None:
    events: list[Event] = [TaskEvent(f"t{i}", "created", 0.0, i + 1) for i in range(50)]
    events += [TaskEvent(f"t{i}", "done", 1.0, i + 1) for i in range(50)]
    text = render_timeline(events, max_tasks=10)
    assert "41 more tasks" in text
    assert sum(1 for line in text.splitlines() if line.startswith("t")) == 9


def test_no_tasks_renders_nothing() -> None:
    assert render_timeline([Started(), Output("stdout", "hi", 0.01), Finished(Status.OK, 0.02)]) == ""


def test_tasks_sharing_a_name_are_kept_apart() -> None:
    events: list[Event] = [
        TaskEvent("job", "created", 0.0, 2),
        TaskEvent("job", "created", 0.5, 3),
        TaskEvent("job", "done", 1.5, 3),
        TaskEvent("job", "done", 1.0, 2),
    ]
    spans = task_spans(events)
    assert [(s.start, s.end) for s in spans] == [(0.0, 1.0), (0.5, 1.5)]


def test_render_accepts_a_record() -> None:
    record = RunRecord.from_events(_two_tasks(concurrent=True))
    assert render_timeline(record) == render_timeline(_two_tasks(concurrent=True))


# --- from real runs --------------------------------------------------------------------------------

CONCURRENT = """\
import asyncio

async def say(n):
    await asyncio.sleep(1)
    print("done", n)

async def main():
    a = asyncio.create_task(say(1), name="say-1")
    b = asyncio.create_task(say(2), name="say-2")
    await a
    await b

asyncio.run(main())
"""

SEQUENTIAL = CONCURRENT.replace(
    '    b = asyncio.create_task(say(2), name="say-2")\n    await a\n',
    '    await a\n    b = asyncio.create_task(say(2), name="say-2")\n',
)


@pytest.fixture
async def runner():  # type: ignore[no-untyped-def]
    async with Runner(RunnerSettings().limits()) as live:
        yield live


@pytest.mark.parametrize(("code", "overlap"), [(CONCURRENT, True), (SEQUENTIAL, False)])
async def test_real_run_timeline(runner, code: str, overlap: bool) -> None:  # type: ignore[no-untyped-def]
    record = RunRecord()
    async for event in runner.run(code, name="two.py"):
        record.add(event)
    assert record.finished is not None and record.finished.status == Status.OK, record.finished
    text = render_timeline(record)
    a, b = _cells(text, "say-1"), _cells(text, "say-2")
    assert a and b, text
    assert bool(a & b) is overlap, text
    assert all(len(line) <= 60 for line in text.splitlines())
    main_rows = [
        s for s in task_spans(record.events) if s.start < 0.5 and s.end and s.end >= 0.9 * (record.elapsed or 0)
    ]
    assert main_rows, f"the main task should span the run:\n{text}"


@pytest.mark.parametrize("t", [1e300, float("inf"), float("nan"), -1e300, 1e9])
def test_drawing_costs_what_it_draws_whatever_the_times(t: float) -> None:
    """A program's times are data: a timeline of absurd ones is drawn as fast as any, within its width."""
    import time

    events: list[Event] = [
        Started(),
        TaskEvent("main", "created", 0.0, 1),
        TaskEvent("main", "done", t, 1),
        TaskEvent("other", "created", t, 2),
        LoopBlocked(duration=t, t=t, line=3),
        Output("stdout", "x", t),
        Finished(Status.OK, t),
    ]
    start = time.perf_counter()
    text = render_timeline(events, width=56)
    assert time.perf_counter() - start < 0.05
    assert text and all(len(line) <= 56 for line in text.splitlines())
    assert len(format_offset(t)) < 16


# --- run segments: who ran, who waited ------------------------------------------------------------------


def _measured(*segments: RunSegment, blocks: tuple[LoopBlocked, ...] = (), capped: float | None = None) -> list[Event]:
    events: list[Event] = [
        Started(),
        TaskEvent("main", "created", 0.0, 1),
        TaskEvent("worker", "created", 0.2, 2),
        TaskRuns.of(segments, 1.0),
        *blocks,
        TaskEvent("worker", "done", 0.8, 2),
        TaskEvent("main", "done", 1.0, 1),
    ]
    if capped is not None:
        events.append(RunsCapped(len(segments), capped))
    return [*events, Finished(Status.OK, 1.0)]


def _lane(text: str, label: str) -> str:
    axis = next(line for line in text.splitlines() if line.lstrip().startswith("+-"))
    origin = len(axis) - len(axis.lstrip())
    return _row(text, label)[origin:].ljust(len(axis) - origin)


def test_a_burst_shorter_than_a_column_still_shows() -> None:
    text = render_timeline(_measured(RunSegment(2, 0.5, 0.5002, 0.0002), RunSegment(1, 0.0, 0.001, 0.001)), width=60)
    worker = _lane(text, "worker")
    assert worker.count(RUNNING) == 1 and worker.strip().strip(WAITING) == RUNNING, text
    middle = worker.index(RUNNING) / len(worker.rstrip())
    assert 0.55 < middle < 0.7  # at 0.5 s of a life from 0.2 s to 0.8 s, on a 1 s axis
    assert worker.startswith(" " * 10) and worker.rstrip().endswith(WAITING)  # blank before it was created
    assert "█ running  ░ waiting (at an await)" in text


def test_waiting_tasks_are_blocked_while_another_holds_the_loop() -> None:
    block = LoopBlocked(0.4, 0.3, line=5)
    text = render_timeline(_measured(RunSegment(2, 0.3, 0.7, 0.4), blocks=(block,)), width=60)
    worker, main = _lane(text, "worker"), _lane(text, "main")
    assert RUNNING * 10 in worker and BLOCKED not in worker
    assert BLOCKED * 10 in main and RUNNING not in main  # main waited, and could not have run
    assert "▓ event loop blocked" in text


def test_past_the_cap_nothing_is_called_waiting() -> None:
    text = render_timeline(_measured(RunSegment(1, 0.0, 0.01, 0.01), capped=0.5), width=60)
    main = _lane(text, "main").rstrip()
    assert WAITING in main[: len(main) // 2] and set(main[len(main) * 6 // 10 :]) == {UNMEASURED}, text
    assert "· not measured (too many switches)" in text


def test_the_legend_is_translated() -> None:
    from bot.locales.wording import legend

    text = render_timeline(_measured(RunSegment(2, 0.3, 0.4, 0.1)), legend=legend("zh-CN"), width=60)
    assert "█ 运行中" in text and "░ 等待中" in text
