"""An edited run against the original: elapsed, output lines changed, tasks added and removed."""

from __future__ import annotations

import pytest

from bot.core.events import Finished, Output, Started, Status, TaskEvent
from bot.core.playground.compare import MAX_LINES, compare_runs
from bot.core.record import RunRecord


def record(lines: list[str], tasks: list[str], elapsed: float, status: Status = Status.OK) -> RunRecord:
    events = [Started()]
    events += [TaskEvent(name, "created", 0.0, i) for i, name in enumerate(tasks)]
    events += [Output("stdout", text, 0.1) for text in lines]
    events.append(Finished(status, elapsed))
    return RunRecord.from_events(events)


def test_a_faster_edit_with_one_more_task_and_a_changed_line() -> None:
    original = record(["start", "a", "b", "took 3 s"], ["main", "dl", "dl", "dl"], 3.004)
    edited = record(["start", "a", "b", "took 1 s"], ["main", "dl", "dl", "dl", "ticker"], 1.006)
    diff = compare_runs(original, edited)
    assert diff.delta == pytest.approx(-1.998)
    assert (diff.lines_added, diff.lines_removed) == (1, 1)
    assert (diff.first_removed, diff.first_added) == ("took 3 s", "took 1 s")
    assert diff.tasks_added == (("ticker", 1),) and diff.tasks_removed == ()
    assert not diff.same_output and not diff.same_tasks and not diff.truncated


def test_the_same_program_compares_equal_and_removed_tasks_count_by_name() -> None:
    original = record(["x"], ["main", "dl", "dl", "dl"], 1.0)
    assert compare_runs(original, record(["x"], ["main", "dl", "dl", "dl"], 1.01)).same_output
    fewer = compare_runs(original, record(["x", "y"], ["main"], 0.5, Status.ERROR))
    assert fewer.tasks_removed == (("dl", 3),) and fewer.tasks_added == ()
    assert (fewer.lines_added, fewer.lines_removed, fewer.status_after) == (1, 0, Status.ERROR)


def test_long_outputs_are_compared_within_a_bound() -> None:
    many = [f"line {i}" for i in range(MAX_LINES * 5)]
    diff = compare_runs(record(many, [], 1.0), record(list(reversed(many)), [], 1.0))
    assert diff.truncated and diff.lines_added <= MAX_LINES and diff.lines_removed <= MAX_LINES


def test_an_unfinished_run_cannot_be_compared() -> None:
    with pytest.raises(ValueError):
        compare_runs(RunRecord.from_events([Started()]), record([], [], 1.0))
