"""RunRecord: accumulating events; Verdict: comparing a run with the lesson's expectations; record_run."""

from __future__ import annotations

from bot.core.events import Finished, LoopBlocked, Output, Queued, Started, Status, TaskEvent
from bot.core.lessons import Example, Expect
from bot.core.record import OutputDifference, RunRecord, record_run


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


def test_verdict_ok() -> None:
    expect = Expect.model_validate(
        {"output": ["a", "b"], "elapsed": {"seconds": 1.0}, "note": {"en": "both wait", "zh-CN": "都在等"}}
    )
    verdict = _record().verdict(expect)
    assert verdict.ok and verdict.status_ok and verdict.status == Status.OK
    assert verdict.elapsed_ok and verdict.expect_elapsed == expect.elapsed and verdict.elapsed == 1.004
    assert verdict.output_ok and verdict.output is None and verdict.expected_lines == 2
    assert verdict.note is not None and verdict.note.get("zh-CN") == "都在等"


def test_verdict_reports_differences_as_data() -> None:
    expect = Expect.model_validate({"output": ["a", "c"], "elapsed": {"seconds": 1.0, "tolerance": 0.1}})
    verdict = _record(elapsed=2.003).verdict(expect)
    assert not verdict.ok and verdict.elapsed_ok is False and verdict.output_ok is False
    assert verdict.output == OutputDifference(line=2, expected="c", actual="b", expected_count=2, actual_count=2)
    short = _record(lines=("a",)).verdict(expect).output
    assert short == OutputDifference(line=2, expected="c", actual=None, expected_count=2, actual_count=1)
    extra = _record(lines=("a", "c", "d")).verdict(expect).output
    assert extra == OutputDifference(line=3, expected=None, actual="d", expected_count=2, actual_count=3)


def test_verdict_expected_error() -> None:
    expect = Expect.model_validate({"status": "error"})
    assert _record(status=Status.ERROR).verdict(expect).ok
    unexpected = _record(status=Status.OK).verdict(expect)
    assert not unexpected.ok and not unexpected.status_ok and unexpected.expected_status == "error"
    timed = Expect.model_validate({"elapsed": {"seconds": 1.0}})
    killed = _record(elapsed=1.0, status=Status.KILLED).verdict(timed)
    assert killed.elapsed_ok is None and not killed.ok  # the time of a run that went wrong tells nothing


def test_verdict_without_expect_or_finish() -> None:
    record = RunRecord()
    record.add(Started())
    record.add(Output("stdout", "x", 0.25))
    verdict = record.verdict()
    assert verdict.status is None and verdict.elapsed == 0.25 and not verdict.ok
    assert verdict.elapsed_ok is None and verdict.output_ok is None and verdict.note is None
    assert _record().verdict().ok


async def test_record_run_collects_every_event_and_passes_them_on() -> None:
    example = Example.model_validate({"id": "two", "code": "print(1)", "timeout": 3})
    events = [Queued(1), Started(), Output("stdout", "1", 0.01), Finished(Status.OK, 0.02)]
    seen: list[object] = []
    handles: list[object] = []

    class Handle:
        def __aiter__(self):
            return self._events()

        async def _events(self):
            for event in events:
                yield event

        def cancel(self) -> None:
            raise AssertionError("not cancelled")

    class Runner:  # a neighbour: records how it was asked
        def run(self, code, *, name="example.py", timeout=None, owner=None, python=None):
            assert (code, name, timeout, owner, python) == ("print(1)", "two.py", 3, 7, None)
            return Handle()

    record = await record_run(Runner(), example, owner=7, on_start=handles.append, on_event=seen.append)
    assert seen == events and len(handles) == 1
    assert record.name == "two.py" and record.stdout() == ["1"] and record.status == Status.OK
