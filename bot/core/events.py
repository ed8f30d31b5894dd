"""The typed event stream every front-end renders.

`Runner.run()` yields these, in order: zero or more `Queued` (position updates while waiting for a slot),
one `Started`, then `Output` / `TaskEvent` / `LoopBlocked` as they happen, `TaskRuns` / `TaskParked` /
`RunsCapped` (who ran when, who waited where) in batches, and exactly one `Finished` last. `t` is seconds
since the program started, measured inside the child with `time.perf_counter` (0.0 for `Queued`) and
clamped by the parent to what it observed of the run; when the child's times disagreed with that,
`Finished.timings_trusted` is False and front-ends say so.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, NamedTuple


class Status(StrEnum):
    """How a run ended; every limit has its own name."""

    OK = "ok"
    ERROR = "error"  # the program raised: type, message, traceback on the lesson's lines
    TIMEOUT = "timeout"  # wall-clock deadline enforced by the parent
    OUTPUT_LIMIT = "output_limit"  # printed more bytes or lines than allowed
    MEMORY_LIMIT = "memory_limit"  # the kernel's OOM killer in the run's cgroup (never the program's word)
    CPU_LIMIT = "cpu_limit"  # RLIMIT_CPU (SIGXCPU / SIGKILL)
    KILLED = "killed"  # ended by another signal
    CANCELLED = "cancelled"  # cancelled by its owner or by shutdown


Stream = Literal["stdout", "stderr"]
TaskEventKind = Literal["created", "done", "cancelled", "failed"]


@dataclass(frozen=True, slots=True)
class Queued:
    position: int  # 1 = next to start; "n ahead of you" is position - 1
    t: float = 0.0
    type: Literal["queued"] = field(default="queued", init=False)


@dataclass(frozen=True, slots=True)
class Started:
    t: float = 0.0
    type: Literal["started"] = field(default="started", init=False)


@dataclass(frozen=True, slots=True)
class Output:
    stream: Stream
    text: str  # one line without its trailing newline (a partial last line is flushed at exit)
    t: float
    type: Literal["output"] = field(default="output", init=False)


@dataclass(frozen=True, slots=True)
class TaskEvent:
    name: str
    event: TaskEventKind
    t: float
    task_id: int = 0  # distinguishes tasks that share a name
    type: Literal["task"] = field(default="task", init=False)


@dataclass(frozen=True, slots=True)
class LoopBlocked:
    duration: float
    t: float  # when the blocking callback started
    line: int | None = None  # the program's line where known
    type: Literal["loop_blocked"] = field(default="loop_blocked", init=False)


class RunSegment(NamedTuple):
    """A stretch in which one task ran: from `start` to `end` it held the loop for `busy` seconds (steps of one
    task less than a millisecond apart are merged into one segment).  Before `start` the task was suspended at
    the `await` on the program's `wait_line` (None: its first step, a short wait, or an await outside it)."""

    task_id: int
    start: float
    end: float
    busy: float
    wait_line: int | None = None


_SEGMENT = struct.Struct("<5d")


@dataclass(frozen=True, slots=True)
class TaskRuns:
    """A batch of run segments (sent by the program's process every quarter second and when it ends).

    Kept packed (five little-endian float64 per segment, a wait line of 0 meaning none) and unpacked into
    `RunSegment`s when read: a run may have 20,000 segments, and that many objects surviving in the bot would
    weigh on every later full collection of the garbage collector; bytes are not followed by it."""

    packed: bytes
    t: float  # the end of the batch's latest segment
    type: Literal["task_runs"] = field(default="task_runs", init=False)

    @classmethod
    def of(cls, segments: Iterable[RunSegment], t: float) -> TaskRuns:
        packed = b"".join(_SEGMENT.pack(s.task_id, s.start, s.end, s.busy, s.wait_line or 0) for s in segments)
        return cls(packed, t)

    @property
    def segments(self) -> tuple[RunSegment, ...]:
        return tuple(
            RunSegment(int(task), start, end, busy, int(line) or None)
            for task, start, end, busy, line in _SEGMENT.iter_unpack(self.packed)
        )


@dataclass(frozen=True, slots=True)
class TaskParked:
    """Task `task_id` has been suspended since `t` at the `await` on the program's `line` (None when unknown):
    reported for long waits and for tasks still waiting when the program ended."""

    task_id: int
    line: int | None
    t: float
    type: Literal["task_parked"] = field(default="task_parked", init=False)


@dataclass(frozen=True, slots=True)
class RunsCapped:
    """The run's segments reached the cap: `segments` were recorded, nothing after `t` is."""

    segments: int
    t: float
    type: Literal["runs_capped"] = field(default="runs_capped", init=False)


@dataclass(frozen=True, slots=True)
class Finished:
    status: Status
    elapsed: float
    exit_code: int | None = None
    error: str | None = None  # exception type + message, or which limit fired
    traceback: str | None = None  # trimmed to the lesson's own frames
    t: float = 0.0
    timings_trusted: bool = True  # False: the program reported times outside its real run (times clamped)
    type: Literal["finished"] = field(default="finished", init=False)


Event = Queued | Started | Output | TaskEvent | LoopBlocked | TaskRuns | TaskParked | RunsCapped | Finished


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-ready dict with `type` first (used by `corobot run --json`)."""
    data = asdict(event)
    kind = data.pop("type")
    if isinstance(event, Finished):
        data["status"] = str(event.status)
    elif isinstance(event, TaskRuns):
        del data["packed"]
        data["segments"] = [segment._asdict() for segment in event.segments]
    return {"type": kind, **data}
