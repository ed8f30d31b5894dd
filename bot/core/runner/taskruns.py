"""Who runs and who waits, measured in the program's process (stdlib only; the harness in `child.py` uses it).

The harness times every loop callback.  A callback that steps a task — the task's step (`TaskStepMethWrapper`)
or its wake-up (`task_wakeup`), both of which expose the task as `callback.__self__` on 3.11–3.13 — is charged
to that task as a **run segment**.  A task's steps that come less than `gap` apart merge into one segment (its
`busy` time stays the sum of the steps), where `gap` is 1 ms or 1/5000 of the run so far, whichever is
longer: a task switching every few hundred microseconds becomes one segment whose `busy` share says how much
of it the task held the loop (the image draws that share), which keeps the cost per switch to a few float
operations.  Between two segments the task was suspended, and the
line of the `await` it was parked on is read from its coroutine's frames *just before* its next step runs
(the coroutine is still suspended there): `cr_await` is walked down to the innermost frame of the program's
own file.  So the line costs something only once per visible wait, never per step.

With eager tasks (3.12+) a task's first step runs inside `create_task`, not as a callback: that stretch is
charged to the new task and taken out of the task that called `create_task`.

What is sent (one JSON line each, on the harness's event pipe):

* `{"k": "seg", "b": BASE64}`: five little-endian float64 per segment (task id, start, end, busy, line), the
  times `time.perf_counter` readings (the parent subtracts the program's start), `line` 0 when unknown (a
  task's first step, a short wait, an `await` outside the program); at most `SEGMENT_BATCH` segments a
  message, at most `MAX_SEGMENTS` a run.  Binary, because encoding is per segment and must cost next to
  nothing: an `array('d')` is extended in C and sent as it is.
* `{"k": "park", "p": [id, line, since, ...]}`: tasks waiting for a while (sent when the loop goes idle) or
  still waiting when the program ends, with their `await` line: the last wait of a run that is then killed
  keeps its label.
* `{"k": "capped", "t": seconds, "n": count}`: the segment cap was reached; nothing after `t` is measured.

Nearing the cap the merge gap doubles (at 1/2, 3/4, 7/8 … of it), so a switch-heavy run is drawn whole at a
coarser grain before it is cut.  Per callback the cost is a type check, a dict look-up and a few float
operations (inlined in the harness's `_run`); a new segment adds a method call and five floats to an array;
the line of a wait is read only for a wait long enough to be labelled in a drawing (`LABEL_SHARE`).
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextvars
import functools
import sys
import time
import types
import weakref
from collections.abc import Callable
from typing import Any, TypeVarTuple

MAX_SEGMENTS = 20_000  # run segments sent per run
SEGMENT_BATCH = 400  # segments per message (~14 KB)
MAX_TRACKED = 5_000  # tasks followed per run (as many as the harness reports events for)
MERGE_MIN = 0.001  # seconds: steps of one task closer than this merge into one segment ...
MERGE_SHARE = 1 / 5000  # ... or closer than this share of the run so far
FLUSH_EVERY = 0.25  # seconds between sends while the loop idles
LABEL_SHARE = 0.03  # a wait shorter than this share of the run so far is drawn too narrow to carry its line
LABEL_MIN = 0.0005  # ... and so is one under half a millisecond
AWAIT_DEPTH = 64  # frames followed down a chain of awaits
_Ts = TypeVarTuple("_Ts")
_CORO = types.CoroutineType
_GEN = types.GeneratorType


class TaskState:
    """One task's open segment and the wait before it."""

    __slots__ = ("busy", "coro", "end", "line", "open", "parked", "start", "task", "tid")

    def __init__(self, tid: int, task: weakref.ref[Any], coro: Callable[[], object]) -> None:
        self.tid = tid
        self.task = task
        self.coro = coro
        self.start = 0.0
        self.end = -1e18  # so the first step always opens a segment
        self.busy = 0.0
        self.line = 0
        self.open = False
        self.parked = False  # its current wait was reported in a `park` message


def _no_coro() -> None:
    return None


async def _probe() -> None:
    return None


class _Probe(asyncio.SelectorEventLoop):
    """A loop that notes the type of every callback scheduled on it."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: list[type] = []

    def call_soon(
        self, callback: Callable[[*_Ts], object], *args: *_Ts, context: contextvars.Context | None = None
    ) -> asyncio.Handle:
        self.kinds.append(type(callback))
        return super().call_soon(callback, *args, context=context)


@functools.cache
def step_type() -> type:
    """The type of a task's step callback (C `TaskStepMethWrapper`; a bound method for the pure-Python task),
    from one named task run on a loop of its own (a named task takes no number from `Task-N`)."""
    loop = _Probe()
    try:
        loop.run_until_complete(loop.create_task(_probe(), name="corobot-probe"))
    finally:
        loop.close()
    return loop.kinds[0]


class TaskRuns:
    """Run segments of one program's tasks; `send` writes one message, `filename` is the program's."""

    def __init__(self, send: Callable[[dict[str, Any]], None], filename: str) -> None:
        self.send = send
        self.filename = filename
        # the types of a task's step callback and of its wake-up (`task_wakeup`, a builtin method); other
        # builtin methods (a future's `set_result` ...) have a `__self__` that is no tracked task
        self.step_type: type = step_type()
        self.wake_type: type = types.BuiltinMethodType
        self.reset(0.0)

    def reset(self, t0: float) -> None:
        self.t0 = t0
        # By id(task), only live tracked tasks (a weak reference's callback drops a collected one), so no
        # reference keeps a task alive and no other object's id can match.  Cleared, never replaced: the
        # harness's hot path holds the dict's `get`.
        self.states: dict[int, TaskState] = getattr(self, "states", {})
        self.states.clear()
        self.closed = array.array("d")  # five floats per closed segment, not yet sent
        self.count = 0  # segments closed this run
        self.capped = False
        self.gap = MERGE_MIN
        self.doublings = 0
        self.last_flush = t0

    # -- the hot path: the harness's `_run` does, around every callback,
    #     kind = type(callback)
    #     state = states.get(id(callback.__self__)) if kind is step_type or kind is wake_type else None
    #     if state is not None and start - state.end > runs.gap: runs.new_segment(state, start)
    #     ... the callback ...
    #     if state is not None: state.busy += end - start; state.end = end
    # (inlined there: a method call per callback costs more than all of that).

    # -- segments ---------------------------------------------------------------------------------------
    def new_segment(self, state: TaskState, start: float) -> None:
        """`state`'s task runs again after a wait longer than `gap`: close its segment, open another."""
        wait = start - state.end
        self.close(state)
        # The await's line only for a wait a drawing could label: one at least LABEL_SHARE of the run so far
        # (the run only gets longer), so a switch-heavy program does not pay for it at every step.
        if state.end > -1e17 and wait >= LABEL_MIN and wait >= (start - self.t0) * LABEL_SHARE:
            state.line = self.await_line(state.coro())
        else:
            state.line = 0
        state.open = True
        state.parked = False
        state.start = start
        state.busy = 0.0

    def close(self, state: TaskState) -> None:
        if not state.open:
            return
        state.open = False
        if not self.capped:
            self.closed.extend((state.tid, state.start, state.end, state.busy, state.line))
            self.count += 1
            if self.count >= MAX_SEGMENTS or len(self.closed) >= 5 * SEGMENT_BATCH:
                self.flush()

    def flush(self) -> None:
        """Send the closed segments (and, at the cap, say so); adjust the merge gap to the run's length so
        far and to how near the cap it is."""
        now = time.perf_counter()
        self.last_flush = now
        while self.count >= MAX_SEGMENTS - (MAX_SEGMENTS >> (self.doublings + 1)) and self.doublings < 20:
            self.doublings += 1
        self.gap = max(MERGE_MIN, (now - self.t0) * MERGE_SHARE) * (1 << self.doublings)
        if self.closed:
            closed, self.closed = self.closed, array.array("d")
            last_end = closed[-3]
            if sys.byteorder != "little":
                closed.byteswap()
            self.send({"k": "seg", "b": base64.b64encode(closed.tobytes()).decode("ascii")})
            if self.count >= MAX_SEGMENTS and not self.capped:
                self.capped = True
                self.send({"k": "capped", "t": last_end - self.t0, "n": self.count})

    def await_line(self, coro: object) -> int:
        """The program's line of the innermost `await` a suspended coroutine is parked on (0 when none)."""
        line = 0
        for _ in range(AWAIT_DEPTH):
            kind = type(coro)
            if kind is _CORO:
                frame, inner = coro.cr_frame, coro.cr_await  # type: ignore[attr-defined]
            elif kind is _GEN:
                frame, inner = coro.gi_frame, coro.gi_yieldfrom  # type: ignore[attr-defined]
            else:
                break
            if frame is None:
                break
            if frame.f_code.co_filename == self.filename:
                line = frame.f_lineno
            if inner is None:
                break
            coro = inner
        return line

    # -- tasks ----------------------------------------------------------------------------------------
    def track(self, task: asyncio.Task[Any], tid: int, coro: object, created: float) -> None:
        """Follow a new task; `created` is when `create_task` was called (an eager first step ran since)."""
        if len(self.states) >= MAX_TRACKED:
            return
        try:
            coro_ref: Callable[[], object] = weakref.ref(coro)
        except TypeError:
            coro_ref = _no_coro
        key = id(task)
        states = self.states

        def forget(_: object) -> None:  # the task was collected (pending, unreferenced): its id is free
            if states.get(key) is state:
                del states[key]

        state = TaskState(tid, weakref.ref(task, forget), coro_ref)
        states[key] = state
        if getattr(coro, "cr_suspended", False) or getattr(coro, "cr_frame", True) is None:
            # an eager task (3.12+): its first step ran inside create_task, within another task's callback
            now = time.perf_counter()
            state.open, state.start, state.end, state.busy = True, created, now, now - created
            try:
                caller = states.get(id(asyncio.current_task()))
            except RuntimeError:  # no running loop
                caller = None
            if caller is not None and caller is not state:  # it did not run meanwhile
                caller.busy -= now - created

    def done(self, task: asyncio.Task[Any]) -> None:
        state = self.states.pop(id(task), None)
        if state is not None:
            self.close(state)

    # -- idle and end ---------------------------------------------------------------------------------
    def idle(self) -> None:
        """The loop is about to wait: every task is suspended.  Now and then, send what was measured."""
        now = time.perf_counter()
        if now - self.last_flush < FLUSH_EVERY:
            return
        self.report(now, final=False)

    def report(self, now: float, *, final: bool) -> None:
        parks: list[int] = []
        for state in list(self.states.values()):
            if state.open and (final or now - state.end > self.gap):
                self.close(state)
            if not state.parked and (final or now - state.end >= FLUSH_EVERY) and state.end > -1e17:
                state.parked = True
                parks += (state.tid, self.await_line(state.coro()), int((state.end - self.t0) * 1e6))
        self.flush()
        for at in range(0, len(parks), 3 * SEGMENT_BATCH):
            self.send({"k": "park", "p": parks[at : at + 3 * SEGMENT_BATCH]})

    def finish(self) -> None:
        """The program ends: close every segment, report every task still waiting, send the rest."""
        self.report(time.perf_counter(), final=True)

