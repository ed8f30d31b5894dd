"""A run as data: `RunRecord` accumulates one run's events, `Verdict` compares it with what its lesson expects.

`record_run(runner, example)` is the one way to run an example into a record (the console, `corobot run`,
`lessons check` and the quizzes' predict-then-run all use it; the Discord run message starts the run with
`start_run` and feeds the same record while it streams).  `RunRecord.verdict(expect)` says, as plain data, how
the finished run compares with the lesson's `Expect`: the status, the elapsed time within its tolerance, the
first line where the output departs.  Front-ends word a verdict in the reader's language; `lessons check`
words it for lesson authors.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.core.events import (
    Event,
    Finished,
    LoopBlocked,
    Output,
    Queued,
    RunsCapped,
    RunSegment,
    Started,
    Status,
    Stream,
    TaskEvent,
    TaskParked,
    TaskRuns,
)
from bot.core.lessons import ElapsedExpect, Example, Expect, Text
from bot.core.versions import Pythons

log = logging.getLogger(__name__)

__all__ = [
    "ExampleRunner",
    "Line",
    "OutputDifference",
    "RunHandle",
    "RunRecord",
    "Verdict",
    "compare_output",
    "record_run",
    "start_run",
]


class RunHandle(Protocol):
    """One admitted run: its events in order, and a way to stop it."""

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def cancel(self) -> None: ...


class ExampleRunner(Protocol):
    """What running an example needs of `bot.core.runner.Runner`."""

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
    ) -> RunHandle: ...


@dataclass(frozen=True, slots=True)
class Line:
    t: float
    stream: Stream
    text: str


@dataclass(frozen=True, slots=True)
class OutputDifference:
    """Where stdout first departs from the expected lines: `line` (1-based) shows `expected` but the run printed
    `actual`; `expected` is None when the run printed extra lines, `actual` None when it ended early."""

    line: int
    expected: str | None
    actual: str | None
    expected_count: int
    actual_count: int


def compare_output(expected: Sequence[str], actual: Sequence[str]) -> OutputDifference | None:
    """The first difference between the expected and the printed stdout lines, or None when they are equal."""
    for index, (want, got) in enumerate(zip(expected, actual, strict=False), start=1):
        if want != got:
            return OutputDifference(index, want, got, len(expected), len(actual))
    if len(actual) < len(expected):
        return OutputDifference(len(actual) + 1, expected[len(actual)], None, len(expected), len(actual))
    if len(actual) > len(expected):
        return OutputDifference(len(expected) + 1, None, actual[len(expected)], len(expected), len(actual))
    return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """How a run compares with its lesson's `Expect`.  A `None` check means there was nothing to compare: no
    expectation, a run still going, or (for the time) a run that ended otherwise than expected."""

    status: Status | None  # None while the run is going
    expected_status: str  # "ok" unless the lesson expects an error or a timeout
    elapsed: float | None
    expect_elapsed: ElapsedExpect | None
    elapsed_ok: bool | None
    expected_lines: int | None  # how many stdout lines the lesson expects, when it says
    output: OutputDifference | None
    output_ok: bool | None
    note: Text | None  # the lesson's explanation of what to expect

    @property
    def status_ok(self) -> bool:
        return self.status is not None and str(self.status) == self.expected_status

    @property
    def ok(self) -> bool:
        """The run ended as the lesson expects, on time and with the expected output."""
        return self.status_ok and self.elapsed_ok is not False and self.output_ok is not False


class RunRecord:
    """Everything one run has produced so far."""

    def __init__(self, name: str = "example.py") -> None:
        self.name = name
        self.events: list[Event] = []
        self.lines: list[Line] = []
        self.tasks: list[TaskEvent] = []
        self.blocked: list[LoopBlocked] = []
        self.runs: list[TaskRuns] = []  # who ran when, packed (the runner bounds how many)
        self.parked: list[TaskParked] = []
        self.runs_capped: RunsCapped | None = None
        self.finished: Finished | None = None
        self.queue_position: int | None = None  # the latest Queued position; None once started
        self.started = False

    @classmethod
    def from_events(cls, events: Iterable[Event], name: str = "example.py") -> RunRecord:
        record = cls(name)
        for event in events:
            record.add(event)
        return record

    def add(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, Output):
            self.lines.append(Line(event.t, event.stream, event.text))
        elif isinstance(event, TaskEvent):
            self.tasks.append(event)
        elif isinstance(event, LoopBlocked):
            self.blocked.append(event)
        elif isinstance(event, TaskRuns):
            self.runs.append(event)
        elif isinstance(event, TaskParked):
            self.parked.append(event)
        elif isinstance(event, RunsCapped):
            self.runs_capped = self.runs_capped or event
        elif isinstance(event, Queued):
            self.queue_position = event.position
        elif isinstance(event, Started):
            self.started = True
            self.queue_position = None
        elif isinstance(event, Finished):
            if self.finished is not None:
                log.warning("run %s: a second Finished event ignored", self.name)
                return
            self.finished = event
            self.queue_position = None

    @property
    def segments(self) -> list[RunSegment]:
        """Every run segment so far, unpacked (a new list each time)."""
        return [segment for batch in self.runs for segment in batch.segments]

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def status(self) -> Status | None:
        return self.finished.status if self.finished else None

    @property
    def elapsed(self) -> float | None:
        if self.finished is not None:
            return self.finished.elapsed
        return max((e.t for e in self.events), default=None) if self.started else None

    def stdout(self) -> list[str]:
        return [line.text for line in self.lines if line.stream == "stdout"]

    def verdict(self, expect: Expect | None = None) -> Verdict:
        finished = self.finished
        wanted = expect.status if expect is not None else "ok"
        status_ok = finished is not None and str(finished.status) == wanted
        elapsed_ok: bool | None = None
        output: OutputDifference | None = None
        output_ok: bool | None = None
        if expect is not None and finished is not None:
            if expect.elapsed is not None and status_ok:  # the time of a run that went wrong tells nothing
                elapsed_ok = expect.elapsed.matches(finished.elapsed)
            if expect.output is not None:
                output = compare_output(expect.output, self.stdout())
                output_ok = output is None
        return Verdict(
            status=finished.status if finished else None,
            expected_status=wanted,
            elapsed=self.elapsed,
            expect_elapsed=expect.elapsed if expect is not None else None,
            elapsed_ok=elapsed_ok,
            expected_lines=len(expect.output) if expect is not None and expect.output is not None else None,
            output=output,
            output_ok=output_ok,
            note=expect.note if expect is not None else None,
        )


def run_name(example: Example) -> str:
    """The file name a run of `example` gets (its tracebacks say `File "two-tasks.py"`)."""
    return f"{example.id}.py"


@runtime_checkable
class OffersPythons(Protocol):
    """A runner that says which Python versions it has (`bot.core.runner.Runner` does)."""

    @property
    def pythons(self) -> Pythons: ...


def start_run(
    runner: ExampleRunner, example: Example, *, owner: int | None = None, python: str | None = None
) -> RunHandle:
    """Admit a run of `example` on the `python` version (None: the runner's default, or for an example that
    declares `versions`, the one `Pythons.for_example` picks); raises `RunnerError` (busy, queue full, shutting
    down, no such Python) before anything runs."""
    if python is None and example.versions and isinstance(runner, OffersPythons):
        python = runner.pythons.for_example(example.versions)
    return runner.run(example.code, name=run_name(example), timeout=example.timeout, owner=owner, python=python)


async def record_run(
    runner: ExampleRunner,
    example: Example,
    *,
    owner: int | None = None,
    python: str | None = None,
    on_start: Callable[[RunHandle], None] | None = None,
    on_event: Callable[[Event], None] | None = None,
) -> RunRecord:
    """Run `example` once (on the `python` version; None: the runner's default) and return everything it
    produced.  `on_start` gets the handle (to stop the run), `on_event` every event as it arrives (to show it
    live).  Raises `RunnerError` when the runner refuses it."""
    handle = start_run(runner, example, owner=owner, python=python)
    if on_start is not None:
        on_start(handle)
    record = RunRecord(run_name(example))
    async for event in handle:
        record.add(event)
        if on_event is not None:
            on_event(event)
    return record
