"""RunRecord: accumulating events and comparing a run with the lesson's expectations."""

from __future__ import annotations

from bot.core.events import Finished, LoopBlocked, Output, Queued, Started, Status, TaskEvent
from bot.core.lessons import Expect
from bot.core.record import RunRecord


def _record(elapsed: float = 1.004, status: Status = Status.OK, lines: tuple[str, ...] = ("a", "b")) -> RunRecord:
    record = RunRecord("demo.py")
    record.add(Queued(2))
    assert record.queue_position == 2 and not record.started
    record.add(Queued(1))
    record.add(Started())
    assert record.queue_position is None and record.started
    for i, text in enumerate(lines):
        record.add(Output("stdout", text, 0.5 * (i + 1)))
    record.add(Output("stderr", "warn", 0.6))
    record.add(TaskEvent("main", "created", 0.0, 1))
    record.add(LoopBlocked(0.2, 0.3, line=4))
    record.add(Finished(status, elapsed, error="ValueError: boom" if status == Status.ERROR else None))
    return record


def test_accumulates_by_kind() -> None:
    record = _record()
    assert [line.text for line in record.lines] == ["a", "b", "warn"]
    assert record.stdout() == ["a", "b"]
    assert len(record.tasks) == 1 and len(record.blocked) == 1
    assert record.done and record.status == Status.OK and record.elapsed == 1.004
    assert len(record.events) == 9


def test_second_finished_is_ignored() -> None:
    record = _record()
    record.add(Finished(Status.CANCELLED, 9.0))
    assert record.status == Status.OK


def test_summary_ok() -> None:
    expect = Expect.model_validate(
        {"output": ["a", "b"], "elapsed": {"seconds": 1.0}, "note": {"en": "both wait", "zh-CN": "都在等"}}
    )
    summary = _record().summary(expect, "zh-CN")
    assert summary.ok
    assert summary.elapsed_check == "expected ≈ 1.0 s ± 0.25: ok"
    assert summary.output_ok and summary.note == "都在等"
    assert summary.warnings == ["event loop blocked for 200 ms at +0.300s (line 4)"]
    assert summary.lines()[0] == "status: ok in 1.004 s"


def test_summary_reports_differences() -> None:
    expect = Expect.model_validate({"output": ["a", "c"], "elapsed": {"seconds": 1.0, "tolerance": 0.1}})
    summary = _record(elapsed=2.003).summary(expect)
    assert not summary.ok
    assert summary.elapsed_ok is False and summary.elapsed_check == "expected ≈ 1.0 s ± 0.1: got 2.003 s (+1.003 s)"
    assert summary.output_ok is False and "line 2" in (summary.output_check or "")
    short = _record(lines=("a",)).summary(expect)
    assert "ended early" in (short.output_check or "")


def test_summary_expected_error() -> None:
    expect = Expect.model_validate({"status": "error"})
    summary = _record(status=Status.ERROR).summary(expect)
    assert summary.ok and summary.expected_status is None and summary.error == "ValueError: boom"
    unexpected = _record(status=Status.OK).summary(expect)
    assert not unexpected.ok and unexpected.expected_status == "error"
    assert "(expected error)" in unexpected.lines()[0]
    timed = Expect.model_validate({"elapsed": {"seconds": 1.0}})
    killed = _record(elapsed=1.0, status=Status.KILLED).summary(timed)
    assert killed.elapsed_check is None and killed.elapsed_ok is None and not killed.ok


def test_summary_without_expect_or_finish() -> None:
    record = RunRecord()
    record.add(Started())
    record.add(Output("stdout", "x", 0.25))
    summary = record.summary()
    assert summary.status == "running" and summary.elapsed == 0.25 and not summary.ok
    assert _record().summary().ok
