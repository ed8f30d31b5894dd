"""Task swim lanes as plain text, usable by every front-end (console, Discord code blocks, logs).

`render_timeline(events)` draws a finished run's tasks: one row per task (the `asyncio.run` main task
included, as the runner reports it) on a shared time axis, blank before the task was created and after it
ended; within its life `█` where it ran (a column in which it ran at all, however briefly: a 0.2 ms step is
not lost), `░` where it was suspended at an `await`, `▓` where it could not run because the event loop was
blocked by another task's callback, `·` past the point where the run's segments were capped (not measured).
`x` marks where a task was cancelled, `!` where it failed, `>` where it was still pending when the program
ended; a `blocked` row shows the periods the loop was stuck in one callback; an axis runs from 0 to the end
time, and a legend names the marks used.  A run recorded without run segments (`TaskRuns`) shows each task
as one bar from creation to completion.  Every line is at most `width` characters, so the drawing fits a
Discord code block.

Times are mapped to columns by rounding, so a task that starts at the moment another one ends begins
exactly in the column where the other stopped: sequential tasks touch, concurrent tasks overlap.

Drawing costs O(events + segments + width × rows), whatever the times say: a time that is not finite counts as 0,
and the axis has at most one tick per few columns however long the run claims to be.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.events import (
    Event,
    Finished,
    LoopBlocked,
    Output,
    RunsCapped,
    RunSegment,
    TaskEvent,
    TaskParked,
    TaskRuns,
)
from bot.core.record import RunRecord

log = logging.getLogger(__name__)

__all__ = [
    "BAR",
    "BLOCKED",
    "CANCELLED",
    "ENGLISH",
    "FAILED",
    "RUNNING",
    "UNFINISHED",
    "UNMEASURED",
    "WAITING",
    "Legend",
    "RunRecord",
    "TaskSpan",
    "TimelineData",
    "format_offset",
    "format_seconds",
    "render_timeline",
    "task_spans",
    "timeline_data",
]

BAR = "█"
BLOCKED = "▓"
CANCELLED = "x"
FAILED = "!"
UNFINISHED = ">"
RUNNING = BAR
WAITING = "░"
UNMEASURED = "·"
MIN_WIDTH = 24
_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0)


def _finite(t: float) -> float:
    return t if math.isfinite(t) else 0.0


def format_offset(t: float) -> str:
    """A time since the program started, as every front-end shows it: `+1.002s`."""
    t = max(_finite(t), 0.0)
    return f"+{t:.3f}s" if t < 1e6 else f"+{t:.3g}s"


def format_seconds(seconds: float) -> str:
    """A duration for people: `1.002 s`, `35 ms` under 0.1 s."""
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.3f} s"


@dataclass(slots=True)
class TaskSpan:
    """One task's life: created at `start`, ended at `end` (None = still pending at exit)."""

    name: str
    task_id: int
    start: float
    end: float | None = None
    outcome: str = "pending"  # done | cancelled | failed | pending


def task_spans(events: Iterable[Event]) -> list[TaskSpan]:
    """Pair each task's `created` with its terminal event, in creation order."""
    spans: list[TaskSpan] = []
    open_spans: dict[tuple[int, str], deque[TaskSpan]] = {}
    for event in events:
        if not isinstance(event, TaskEvent):
            continue
        key = (event.task_id, event.name) if event.task_id == 0 else (event.task_id, "")
        t = _finite(event.t)
        if event.event == "created":
            span = TaskSpan(event.name, event.task_id, t)
            spans.append(span)
            open_spans.setdefault(key, deque()).append(span)
            continue
        pending = open_spans.get(key)
        if pending:
            span = pending.popleft()
            span.name = event.name or span.name  # a name set after creation arrives with the end event
        else:  # ended without a recorded creation (created before recording began)
            span = TaskSpan(event.name, event.task_id, 0.0)
            spans.append(span)
        span.end = t
        span.outcome = event.event
    spans.sort(key=lambda s: (s.start, s.task_id))
    return spans


def _end_time(events: list[Event], spans: list[TaskSpan], blocks: list[LoopBlocked]) -> float:
    end = 0.0
    for event in events:
        if isinstance(event, Finished):
            end = max(end, _finite(event.elapsed))
        end = max(end, _finite(event.t))
    for span in spans:
        end = max(end, span.start, span.end or 0.0)
    for block in blocks:
        end = max(end, _finite(block.t + block.duration))
    return end


class _Scale:
    def __init__(self, end: float, columns: int) -> None:
        self.end = end if 0 < end < math.inf else 1.0
        self.columns = columns

    def x(self, t: float) -> int:
        position = _finite(t) / self.end * self.columns
        return min(self.columns, max(0, round(position))) if math.isfinite(position) else 0

    def cells(self, start: float, end: float) -> range:
        first = min(self.x(start), self.columns - 1)
        return range(first, max(first + 1, self.x(end)))

    def touched(self, start: float, end: float) -> tuple[int, int]:
        """The columns [first, last) an interval overlaps at all (at least one): a brief burst still shows."""
        a, b = _finite(start) / self.end * self.columns, _finite(end) / self.end * self.columns
        first = min(self.columns - 1, max(0, math.floor(a))) if math.isfinite(a) else 0
        last = min(self.columns, max(first + 1, math.ceil(b))) if math.isfinite(b) else first + 1
        return first, last


def _label(name: str, width: int) -> str:
    name = " ".join(name.split()) or "?"
    if len(name) > width:
        name = name[: width - 1] + "…"
    return name.ljust(width)


def tick_label(value: float, step: float) -> str:
    if value >= 1e6:
        return f"{value:.3g}"
    decimals = 0 if step >= 1 else min(3, max(1, -math.floor(math.log10(step) + 1e-9)))
    return f"{value:.{decimals}f}"


def tick_step(end: float, ticks: int) -> float:
    """A round tick spacing giving at most `ticks` ticks up to `end` (1-2-5 steps past the table's)."""
    step = next((s for s in _STEPS if end / s <= ticks), None)
    if step is not None:
        return step
    scale = 10.0 ** math.floor(math.log10(end / ticks))
    return next(m * scale for m in (1.0, 2.0, 5.0, 10.0, 20.0) if end / (m * scale) <= ticks)


def _axis(scale: _Scale, indent: int) -> list[str]:
    """A ruler (`+----+----+`) and its labels: `0`, round ticks where they fit, the end time."""
    n = scale.columns
    end_label = f"{scale.end:.3f}s" if scale.end < 1e6 else f"{scale.end:.3g}s"
    step = tick_step(scale.end, max(1, n // 8))
    ruler = ["-"] * n
    labels = [" "] * (n + len(end_label))
    ruler[0] = "+"
    ruler[n - 1] = "+"
    labels[0] = "0"
    end_at = max(2, n - len(end_label))
    labels[end_at : end_at + len(end_label)] = list(end_label)
    k = 1
    while k * step < scale.end * 0.999:
        value = k * step
        col = min(n - 1, scale.x(value))
        ruler[col] = "+"
        text = tick_label(value, step)
        at = col - len(text) // 2
        if at > 1 and at + len(text) < end_at - 1 and labels[at - 1 : at + len(text) + 1] == [" "] * (len(text) + 2):
            labels[at : at + len(text)] = list(text)
        k += 1
    pad = " " * indent
    return [pad + "".join(ruler), (pad + "".join(labels)).rstrip()]


def _more_tasks(count: int) -> str:
    return f"… {count} more task{'s' if count != 1 else ''} not shown"


@dataclass(frozen=True, slots=True)
class Legend:
    """The words a timeline shows, in its reader's language (front-ends pass theirs from the text catalog)."""

    cancelled: str = "cancelled"
    failed: str = "failed"
    pending: str = "pending at exit"
    blocked: str = "event loop blocked"
    more_tasks: Callable[[int], str] = _more_tasks
    running: str = "running"
    waiting: str = "waiting (at an await)"
    unmeasured: str = "not measured (too many switches)"
    output: str = "output line"
    lifetime: str = "task alive"


ENGLISH = Legend()


def _legend(used: list[tuple[str, str]], width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for mark, meaning in used:
        item = f"{mark} {meaning}"
        if current and len(current) + 2 + len(item) > width:
            lines.append(current)
            current = ""
        current = f"{current}  {item}" if current else item
    if current:
        lines.append(current)
    return [line[:width] for line in lines]


@dataclass(slots=True)
class TimelineData:
    """What a drawing of a run needs, gathered once from its events (text and image renderers share it)."""

    spans: list[TaskSpan]
    segments: dict[int, list[RunSegment]]  # by task id, in time order
    blocks: list[LoopBlocked]
    parked: dict[int, list[tuple[float, int | None]]]  # by task id: (since, the await's line)
    outputs: list[float]  # when each output line was printed
    capped: float | None  # run segments are not measured after this time
    measured: bool  # the run reported run segments (else tasks are drawn as one bar each)
    end: float


def timeline_data(events: Iterable[Event] | RunRecord) -> TimelineData:
    items = list(events.events) if isinstance(events, RunRecord) else list(events)
    spans = task_spans(items)
    blocks: list[LoopBlocked] = []
    segments: dict[int, list[RunSegment]] = {}
    parked: dict[int, list[tuple[float, int | None]]] = {}
    outputs: list[float] = []
    capped: float | None = None
    measured = False
    for event in items:
        if isinstance(event, TaskRuns):
            measured = True
            for segment in event.segments:
                segments.setdefault(segment.task_id, []).append(segment)
        elif isinstance(event, LoopBlocked):
            blocks.append(event)
        elif isinstance(event, Output):
            outputs.append(_finite(event.t))
        elif isinstance(event, TaskParked):
            parked.setdefault(event.task_id, []).append((_finite(event.t), event.line))
        elif isinstance(event, RunsCapped) and capped is None:
            measured = True
            capped = _finite(event.t)
    for runs in segments.values():
        runs.sort(key=lambda r: _finite(r.start))
    return TimelineData(spans, segments, blocks, parked, outputs, capped, measured, _end_time(items, spans, blocks))


def _lane(span: TaskSpan, data: TimelineData, scale: _Scale) -> list[str]:
    """One task's cells: its life as `█`/`░`/`▓`/`·` when measured, else one bar; blank outside its life."""
    row = [" "] * scale.columns
    life = scale.cells(span.start, span.end if span.end is not None else scale.end)
    if not data.measured:
        for i in life:
            row[i] = BAR
        return row
    ran = [0] * (scale.columns + 1)  # a difference array: O(segments + columns) however long the segments
    for segment in data.segments.get(span.task_id, ()):
        first, last = scale.touched(segment.start, segment.end)
        first = min(max(first, life.start), life.stop - 1)  # rounding put the life's ends a column off
        last = min(max(last, first + 1), life.stop)
        ran[first] += 1
        ran[last] -= 1
    blocked = [0] * (scale.columns + 1)
    for block in data.blocks:
        first, last = scale.touched(block.t, block.t + block.duration)
        blocked[first] += 1
        blocked[last] -= 1
    unmeasured = scale.columns if data.capped is None else scale.touched(data.capped, data.capped)[0] + 1
    running = stuck = 0
    for i in range(life.stop):
        running += ran[i]
        stuck += blocked[i]
        if i < life.start:
            continue
        if running > 0:
            row[i] = RUNNING
        elif stuck > 0:
            row[i] = BLOCKED
        elif i >= unmeasured:
            row[i] = UNMEASURED
        else:
            row[i] = WAITING
    return row


def render_timeline(
    events: Iterable[Event] | RunRecord, width: int = 60, max_tasks: int = 20, legend: Legend = ENGLISH
) -> str:
    """The run's tasks as text swim lanes; "" when the run recorded no task and no blocked loop."""
    width = max(width, MIN_WIDTH)
    max_tasks = max(max_tasks, 2)
    data = timeline_data(events)
    spans, blocks = data.spans, data.blocks
    if not spans and not blocks:
        return ""
    hidden = 0
    if len(spans) > max_tasks:
        hidden = len(spans) - (max_tasks - 1)
        spans = spans[: max_tasks - 1]
    names = [s.name for s in spans] + (["blocked"] if blocks else [])
    label_w = min(max(len(n) for n in names), max(7, width // 4))
    columns = width - label_w - 1
    scale = _Scale(data.end, columns)
    used: dict[str, str] = {}
    lines: list[str] = []
    for span in spans:
        row = _lane(span, data, scale)
        if data.measured:
            used[RUNNING] = legend.running
            for shown in set(row) & {WAITING, UNMEASURED}:
                used[shown] = legend.waiting if shown == WAITING else legend.unmeasured
        life = [i for i, cell in enumerate(row) if cell != " "]
        mark = {"cancelled": CANCELLED, "failed": FAILED, "pending": UNFINISHED}.get(span.outcome)
        if mark and life:
            row[life[-1]] = mark
            used[mark] = {CANCELLED: legend.cancelled, FAILED: legend.failed, UNFINISHED: legend.pending}[mark]
        lines.append((_label(span.name, label_w) + " " + "".join(row)).rstrip())
    if hidden:
        lines.append(legend.more_tasks(hidden)[:width])
    if blocks:
        row = [" "] * columns
        for block in blocks:
            for i in scale.cells(block.t, block.t + block.duration):
                row[i] = BLOCKED
        lines.append(_label("blocked", label_w) + " " + "".join(row).rstrip())
        used[BLOCKED] = legend.blocked
    lines.extend(_axis(scale, label_w + 1))
    if used:
        order = [RUNNING, WAITING, BLOCKED, UNMEASURED, CANCELLED, FAILED, UNFINISHED]
        lines.extend(_legend([(m, used[m]) for m in order if m in used], width))
    too_long = [line for line in lines if len(line) > width]
    if too_long:  # a bug, not a user error: never break the caller's layout
        log.warning("timeline line over %d columns: %r", width, too_long[0])
        lines = [line[:width] for line in lines]
    return "\n".join(lines)
