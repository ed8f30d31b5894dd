"""`RunRecord`: the accumulated state of one run, which every front-end renders from.

Feed it every event of `runner.run(...)` with `add()`; it keeps the output lines, task events,
loop-blocked reports, the queue position and the `Finished`.  `summary(expect, locale)` compares the
run with the lesson's `Expect` and returns plain data (no markup, no discord), so the console and the
Discord front-end word the same facts the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.core.events import Event, Finished, LoopBlocked, Output, Queued, Started, Status, Stream, TaskEvent
from bot.core.lessons import Expect

log = logging.getLogger(__name__)

__all__ = ["Line", "RunRecord", "RunSummary"]


@dataclass(frozen=True, slots=True)
class Line:
    t: float
    stream: Stream
    text: str


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What a front-end shows under the output.  `ok` = the run ended as the lesson expects."""

    status: str  # the Finished status, or "running" while unfinished
    elapsed: float | None
    ok: bool
    expected_status: str | None  # the lesson's expected status when the actual one differs
    elapsed_check: str | None  # "expected ≈ 1.0 s ± 0.25: ok" / "...: got 2.004 s"
    elapsed_ok: bool | None
    output_check: str | None  # "output matches" / first difference
    output_ok: bool | None
    note: str | None  # the lesson's explanation of the expectation, in the chosen locale
    error: str | None
    traceback: str | None
    warnings: list[str] = field(default_factory=list)  # loop-blocked reports

    def lines(self) -> list[str]:
        """The summary as plain text lines, in display order (the traceback excluded)."""
        head = f"status: {self.status}"
        if self.elapsed is not None:
            head += f" in {self.elapsed:.3f} s"
        if self.expected_status:
            head += f" (expected {self.expected_status})"
        out = [head]
        if self.error:
            out.append(f"error: {self.error}")
        if self.elapsed_check:
            out.append(self.elapsed_check)
        if self.output_check:
            out.append(self.output_check)
        if self.note:
            out.append(f"why: {self.note}")
        out.extend(f"warning: {w}" for w in self.warnings)
        return out


def _seconds(value: float) -> str:
    text = f"{value:.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class RunRecord:
    """Everything one run has produced so far."""

    def __init__(self, name: str = "example.py") -> None:
        self.name = name
        self.events: list[Event] = []
        self.lines: list[Line] = []
        self.tasks: list[TaskEvent] = []
        self.blocked: list[LoopBlocked] = []
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

    def summary(self, expect: Expect | None = None, locale: str | None = None) -> RunSummary:
        status = str(self.finished.status) if self.finished else "running"
        elapsed = self.elapsed
        wanted = expect.status if expect is not None else "ok"
        status_ok = status == wanted
        elapsed_check: str | None = None
        elapsed_ok: bool | None = None
        output_check: str | None = None
        output_ok: bool | None = None
        note: str | None = None
        if expect is not None and self.finished is not None:
            if expect.elapsed is not None and status_ok:  # the time of a run that went wrong tells nothing
                target = expect.elapsed
                elapsed_ok = target.matches(self.finished.elapsed)
                elapsed_check = f"expected ≈ {_seconds(target.seconds)} s ± {_seconds(target.tolerance)}: "
                if elapsed_ok:
                    elapsed_check += "ok"
                else:
                    diff = self.finished.elapsed - target.seconds
                    elapsed_check += f"got {self.finished.elapsed:.3f} s ({'+' if diff >= 0 else '-'}{abs(diff):.3f} s)"
            if expect.output is not None:
                output_ok, output_check = self._compare_output(expect.output)
            if expect.note is not None:
                note = expect.note.get(locale)
        warnings = [
            f"event loop blocked for {b.duration * 1000:.0f} ms at +{b.t:.3f}s"
            + (f" (line {b.line})" if b.line is not None else "")
            for b in self.blocked
        ]
        return RunSummary(
            status=status,
            elapsed=elapsed,
            ok=status_ok and elapsed_ok is not False and output_ok is not False,
            expected_status=None if status_ok or self.finished is None else wanted,
            elapsed_check=elapsed_check,
            elapsed_ok=elapsed_ok,
            output_check=output_check,
            output_ok=output_ok,
            note=note,
            error=self.finished.error if self.finished else None,
            traceback=self.finished.traceback if self.finished else None,
            warnings=warnings,
        )

    def _compare_output(self, expected: list[str]) -> tuple[bool, str]:
        actual = self.stdout()
        if actual == expected:
            return True, f"output: {len(expected)} line{'s' if len(expected) != 1 else ''} as expected"
        for i, (want, got) in enumerate(zip(expected, actual, strict=False), start=1):
            if want != got:
                return False, f"output differs at line {i}: expected {_clip(want)!r}, got {_clip(got)!r}"
        if len(actual) < len(expected):
            return False, f"output ended early: expected {len(expected)} lines, got {len(actual)}"
        return False, f"output has {len(actual) - len(expected)} extra line(s), from {_clip(actual[len(expected)])!r}"
