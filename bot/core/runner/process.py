"""Parent side of one run: its pipes and its control channel, read with asyncio, trusting nothing it reads.

Per run the parent makes three pipes (events, raw stdout, raw stderr: the program holds their write ends)
and a control socket pair whose far end only the worker (or, without root, the run's supervisor) holds:
the program never has it.  Over it the parent asks for a kill, and the worker reports the run's end (wait
status, CPU time, when it was reaped).  So a program can say anything on its pipes, but it cannot end its
run early, forge its exit, or keep its slot.

What arrives on the event pipe is the program's own account, read as data: each field is type-checked,
each time is clamped to the run's real window as the parent observed it (from the moment the run was
handed over to the moment its end was reported, never later than when the message arrived), and a run
whose times disagree with that window is marked `timings_trusted = False`.  Buffers, counts and logged
warnings are bounded per run, so the bot's work per run is bounded whatever the program writes.
"""

from __future__ import annotations

import array
import asyncio
import base64
import contextlib
import functools
import json
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.events import (
    Event,
    LoopBlocked,
    Output,
    RunsCapped,
    Stream,
    TaskEvent,
    TaskParked,
    TaskRuns,
)
from bot.core.runner import messages as m

log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 4 * 1024 * 1024  # protocol bytes per run besides output lines (tasks, runs, blocks, errors)
MAX_TASK_EVENTS = 5_000  # as the harness sends at most; more are dropped
MAX_BLOCKS = 500  # loop-blocked reports kept per run
MAX_SEGMENTS = 20_000  # run segments kept per run (as the harness sends at most); more are dropped
MAX_BATCH = 400  # segments (or parked tasks) one message may carry, as the harness sends them
SEGMENT_TEXT = (MAX_BATCH * 5 * 8 + 2) // 3 * 4  # base64 characters of a full batch of segments
MAX_WARNINGS = 5  # logged per run; the rest are counted
CLOCK_SLACK = 0.002  # seconds: float rounding between the child's clock readings and ours (same clock)
TASK_KINDS = frozenset({"created", "done", "cancelled", "failed"})


@dataclass
class RunOutcome:
    """How a run ended: `wait_status`, `cpu`, `end`, `reported` come from the worker (trusted); `error`,
    `traceback` and the output-limit claim are the program's account."""

    t0: float | None = None  # the program's start, on the parent's clock (validated)
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    claims_output_limit: bool = False
    wait_status: int | None = None
    cpu: float = 0.0
    end: float | None = None
    reported: bool = False  # the worker reported the end
    failure: str | None = None  # why the run could not start or was lost (worker's word, or before start)
    pending_block: tuple[float, int | None] | None = None
    timings_trusted: bool = True
    anomalies: int = 0  # messages dropped as malformed or impossible


class _Pipe(asyncio.Protocol):
    def __init__(self, on_data: Callable[[bytes], None], on_eof: Callable[[], None]) -> None:
        self._on_data = on_data
        self._on_eof = on_eof

    def data_received(self, data: bytes) -> None:
        self._on_data(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_eof()


def _same(protocol: _Pipe) -> _Pipe:
    return protocol


class RunProcess:
    """One run's channels: turns child messages into events, counts output, asks the worker for a kill."""

    def __init__(
        self, emit: Callable[[Event], None], output_bytes: int, output_lines: int, *, run_id: int = 0
    ) -> None:
        self.emit = emit
        self._output_bytes = output_bytes
        self._output_lines = output_lines
        self.run_id = run_id
        self.used_bytes = 0
        self.used_lines = 0
        self.over_limit = False  # the parent's own count hit a limit
        self.outcome = RunOutcome()
        self.launched = time.perf_counter()  # lower bound of the program's start
        event_line = 6 * output_bytes + 4096  # one JSON-escaped output line at most
        self._buffers = {
            "events": m.LineBuffer(event_line),
            "stdout": m.LineBuffer(output_bytes),
            "stderr": m.LineBuffer(output_bytes),
        }
        self._event_bytes = 0
        self._task_events = 0
        self._blocks = 0
        self._segments = 0
        self._parked = 0
        self._capped = False
        self._warnings = 0
        self._open = 3
        loop = asyncio.get_running_loop()
        self._drained = loop.create_future()
        self._ended = loop.create_future()
        self._control: socket.socket | None = None
        self._transports: list[asyncio.BaseTransport] = []
        self.on_started: Callable[[], None] | None = None
        self.worker: object | None = None  # the worker that runs it

    async def connect(self, event_r: int, out_r: int, err_r: int, control: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        control.setblocking(False)
        self._control = control
        loop.add_reader(control.fileno(), self._on_control)
        for fd, key in ((event_r, "events"), (out_r, "stdout"), (err_r, "stderr")):
            pipe = os.fdopen(fd, "rb", buffering=0)
            protocol = _Pipe(functools.partial(self._data, key), self._eof)
            transport, _ = await loop.connect_read_pipe(functools.partial(_same, protocol), pipe)
            self._transports.append(transport)

    # -- life ----------------------------------------------------------------------------------------
    async def wait_ended(self) -> None:
        """Until the worker reports the run's end (or its channel closes)."""
        await asyncio.shield(self._ended)

    async def wait_drained(self) -> None:
        """Until the program's pipes are all closed (every process of the run is gone)."""
        await asyncio.shield(self._drained)

    @property
    def ended(self) -> bool:
        return self._ended.done()

    def kill(self) -> None:
        """Ask the worker to kill every process of the run (idempotent); its report follows."""
        if self._control is not None and not self._ended.done():
            with contextlib.suppress(OSError):
                self._control.send(b"k")

    def abandon(self) -> None:
        """Stop reading anything of this run (its worker is gone or stuck)."""
        self._close_control()
        for transport in self._transports:
            transport.close()
        if not self._drained.done():
            self._drained.set_result(None)

    def _close_control(self) -> None:
        if self._control is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._control.fileno())
            self._control.close()
            self._control = None
        if not self._ended.done():
            self._ended.set_result(None)

    def _on_control(self) -> None:
        assert self._control is not None
        try:
            data = self._control.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data and data != b"k":
            self._report(data)
        if not data or self.outcome.reported:
            self._close_control()

    def _report(self, data: bytes) -> None:
        """The worker's (or supervisor's) word: checked all the same, it is the end of the run."""
        try:
            msg = json.loads(data)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            self._warn("unreadable report from the worker: %r", data[:100])
            return
        o = self.outcome
        if msg.get("k") == "fail":
            o.failure = m.text(msg.get("m"), m.MAX_ERROR) or "the worker could not start the run"
            return
        if msg.get("k") != "exit":
            return
        o.reported = True
        o.wait_status = m.integer(msg.get("status"), 0, 0xFFFF)
        o.cpu = max(0.0, m.number(msg.get("cpu")) or 0.0)
        end = m.number(msg.get("end"))
        now = time.perf_counter()
        o.end = end if end is not None and self.launched <= end <= now + CLOCK_SLACK else now

    def _eof(self) -> None:
        self._open -= 1
        if self._open == 0 and not self._drained.done():
            self._drained.set_result(None)

    # -- pipes ---------------------------------------------------------------------------------------
    def _data(self, key: str, data: bytes) -> None:
        buffer = self._buffers[key]
        lines = buffer.feed(data)
        if key == "events":
            for line in lines:
                self._message(line)
            if buffer.overflowing:  # a "line" larger than any message the harness sends
                buffer.take()
                self._warn("oversized message from a run; stopping it")
                self._stop_reading()
            return
        stream: Stream = "stderr" if key == "stderr" else "stdout"
        for line in lines:
            self._raw(stream, line)
        if buffer.overflowing:  # an endless line without a newline: what fits, then the limit
            self._raw(stream, buffer.take())

    def _stop_reading(self) -> None:
        self.over_limit = True
        self.kill()

    def _now(self) -> float:
        t0 = self.outcome.t0
        return time.perf_counter() - t0 if t0 is not None else 0.0

    def _raw(self, stream: Stream, line: bytes) -> None:
        self._output(stream, line.decode("utf-8", "replace"), self._now())

    def _output(self, stream: Stream, text: str, t: float) -> None:
        if self.over_limit:
            return
        size = len(text.encode("utf-8", "replace")) + 1
        if self.used_bytes + size > self._output_bytes + 1 or self.used_lines >= self._output_lines:
            self.over_limit = True
            room = self._output_bytes - self.used_bytes
            if room > 0 and self.used_lines < self._output_lines:
                self.emit(Output(stream, text.encode()[:room].decode("utf-8", "ignore"), t))
            self.kill()
            return
        self.used_bytes += size
        self.used_lines += 1
        self.emit(Output(stream, text, t))

    # -- the program's messages ----------------------------------------------------------------------
    def _warn(self, message: str, *args: object) -> None:
        self.outcome.anomalies += 1
        self._warnings += 1
        if self._warnings <= MAX_WARNINGS:
            log.warning("run %s: %s", self.run_id, message % args)
        elif self._warnings == MAX_WARNINGS + 1:
            log.warning("run %s: more malformed messages; not logging them", self.run_id)

    def _distrust(self, what: str) -> None:
        if self.outcome.timings_trusted:
            self.outcome.timings_trusted = False
            self._warn("timings not trusted (%s)", what)

    def _time(self, value: Any) -> float | None:
        """A child time (seconds since its start) clamped to what the parent has seen so far."""
        t = m.number(value)
        t0 = self.outcome.t0
        if t0 is None:
            return None
        limit = max(0.0, time.perf_counter() - t0)
        if t is None or t < -CLOCK_SLACK or t > limit + CLOCK_SLACK:
            self._distrust(f"a time of {str(value)[:30]} s when {limit:.3f} s had passed")
            return 0.0 if t is None or t < 0 else limit
        return min(max(t, 0.0), limit)

    def _message(self, raw: bytes) -> None:
        self._event_bytes += len(raw) + 1
        try:
            msg = json.loads(raw)
        except ValueError:
            msg = None
        if not isinstance(msg, dict):
            self._warn("unreadable message: %r", raw[:80])
            return
        kind = msg.get("k")
        if kind != "out" and self._event_bytes > MAX_EVENT_BYTES + self.used_bytes * 6:
            self._warn("too many protocol messages; stopping the run")
            self._stop_reading()
            return
        o = self.outcome
        if kind == "start":
            self._start(msg)
        elif kind == "fail" and o.t0 is None:  # from the spare before the program runs: ours
            o.failure = m.text(msg.get("m"), m.MAX_ERROR) or "the program could not start"
        elif o.t0 is None:
            self._warn("%s message before the start", str(kind)[:20])
        elif kind == "out":
            text, t = m.text(msg.get("x"), None), self._time(msg.get("t"))
            if text is None or t is None:
                return self._warn("malformed output message")
            self._output("stderr" if msg.get("s") == "stderr" else "stdout", text, t)
        elif kind == "task":
            self._task(msg)
        elif kind in ("blocking", "blocked"):
            self._blocked(kind, msg)
        elif kind == "seg":
            self._runs(msg)
        elif kind == "park":
            self._park(msg)
        elif kind == "capped":
            self._cap(self._time(msg.get("t")))
        elif kind == "error":
            error, tb = m.text(msg.get("e"), m.MAX_ERROR), m.text(msg.get("tb"), m.MAX_TRACEBACK)
            if error is None:
                return self._warn("malformed error message")
            o.error, o.traceback = error, tb
            o.error_type = m.text(msg.get("type"), m.MAX_NAME)
        elif kind == "limit" and msg.get("w") == "output":
            o.claims_output_limit = True
        else:
            self._warn("unexpected message %r", str(kind)[:20])

    def _start(self, msg: dict[str, Any]) -> None:
        o = self.outcome
        now = time.perf_counter()
        if o.t0 is not None:
            return self._distrust("a second start message")
        t0 = m.number(msg.get("t0"))
        if t0 is None or not self.launched - CLOCK_SLACK <= t0 <= now + CLOCK_SLACK:
            o.t0 = now
            self._distrust("a start time outside the run")
        else:
            o.t0 = t0
        if self.on_started is not None:
            self.on_started()

    def _task(self, msg: dict[str, Any]) -> None:
        self._task_events += 1
        if self._task_events > MAX_TASK_EVENTS:
            return
        name, kind, task_id = m.text(msg.get("n"), m.MAX_NAME), msg.get("e"), m.integer(msg.get("i"), 0, 2**31)
        t = self._time(msg.get("t"))
        if name is None or kind not in TASK_KINDS or task_id is None or t is None:
            return self._warn("malformed task message")
        self.emit(TaskEvent(name=name, event=kind, t=t, task_id=task_id))

    def _blocked(self, kind: str, msg: dict[str, Any]) -> None:
        o = self.outcome
        t = self._time(msg.get("t"))
        if t is None:
            return self._warn("malformed %s message", kind)
        line = m.optional_line(msg.get("l"))
        if kind == "blocking":
            o.pending_block = (t, line)
            return
        o.pending_block = None
        self._blocks += 1
        duration = m.number(msg.get("d"))
        room = self._now() - t
        if duration is None or duration < 0 or duration > room + CLOCK_SLACK:
            self._distrust("a blocked period longer than the run")
            duration = max(0.0, min(duration or 0.0, room))
        if self._blocks <= MAX_BLOCKS:
            self.emit(LoopBlocked(duration=max(0.0, min(duration, room)), t=t, line=line))

    # -- who ran, who waited ------------------------------------------------------------------------------
    def _numbers(self, msg: dict[str, Any], key: str, width: int) -> list[int] | None:
        """A flat list of `width`-tuples of integers, at most MAX_BATCH tuples, else None (and a warning)."""
        values = msg.get(key)
        if (
            type(values) is not list
            or len(values) % width
            or len(values) > width * MAX_BATCH
            or not all(type(v) is int and -(2**53) < v < 2**53 for v in values)
        ):
            self._warn("malformed %s message", str(msg.get("k"))[:20])
            return None
        return values

    def _clamped(self, t: float, limit: float) -> float:
        """A time since the program's start, clamped to [0, limit] (distrusted when it was outside)."""
        if t < -CLOCK_SLACK or t > limit + CLOCK_SLACK:
            self._distrust(f"a run segment at {t:.6g} s when {limit:.3f} s had passed")
        return min(max(t, 0.0), limit)

    def _cap(self, t: float | None) -> None:
        if not self._capped:
            self._capped = True
            self.emit(RunsCapped(segments=self._segments, t=t if t is not None else self._now()))

    def _runs(self, msg: dict[str, Any]) -> None:
        """Run segments: five little-endian float64 each (task id, start, end, busy, the wait's line), base64;
        times are the child's `perf_counter` readings, made relative to the program's start here."""
        encoded, t0 = msg.get("b"), self.outcome.t0
        if self._capped:  # nothing more is kept: not even decoded
            return None
        if type(encoded) is not str or len(encoded) > SEGMENT_TEXT or t0 is None:
            return self._warn("malformed seg message")
        try:
            values = array.array("d", base64.b64decode(encoded, validate=True))
        except ValueError:  # bad base64, or not a whole number of float64
            return self._warn("malformed seg message")
        if len(values) % 5:
            return self._warn("malformed seg message")
        if sys.byteorder != "little":
            values.byteswap()
        limit = max(0.0, self._now())
        high, room = limit + CLOCK_SLACK, MAX_SEGMENTS - self._segments
        kept = array.array("d")  # the checked segments, packed as TaskRuns keeps them
        columns = (values[0::5], values[1::5], values[2::5], values[3::5], values[4::5])
        for task_id, start, end, busy, line in zip(*columns, strict=True):
            if len(kept) >= 5 * room:
                break
            start -= t0
            end -= t0
            # one chain of comparisons for the usual case (NaN fails every one, infinities the bounds)
            if not (0 < task_id < 2**31 and task_id == int(task_id) and -CLOCK_SLACK <= start <= end <= high):
                segment = self._odd_segment(task_id, start, end, limit)
                if segment is None:
                    continue
                start, end = segment
            start, end = max(start, 0.0), min(end, limit)
            if not busy >= 0.0:  # NaN too
                busy = 0.0
            elif busy > end - start:
                busy = end - start
            wait_line = line if 0 < line <= 10**7 and line == int(line) else 0.0
            kept.extend((task_id, start, end, busy, wait_line))
        self._segments += len(kept) // 5
        last = max(kept[2::5]) if kept else None
        if last is not None:
            if sys.byteorder != "little":
                kept.byteswap()
            self.emit(TaskRuns(kept.tobytes(), t=last))
        if self._segments >= MAX_SEGMENTS:
            self._cap(last)

    def _odd_segment(self, task_id: float, start: float, end: float, limit: float) -> tuple[float, float] | None:
        """A segment the quick check refused: clamped and distrusted when its times lie outside the run, None
        (and a warning) when it is not a segment at all."""
        if not (math.isfinite(task_id) and 0 < task_id < 2**31 and task_id.is_integer()):
            self._warn("impossible run segment")
            return None
        if not (math.isfinite(start) and math.isfinite(end)):
            self._distrust("a run segment at a time that is not a number")
            return 0.0, limit
        if end < start:
            self._warn("impossible run segment")
            return None
        return self._clamped(start, limit), self._clamped(end, limit)

    def _park(self, msg: dict[str, Any]) -> None:
        """Tasks suspended for a while: (task id, the await's line, since when in microseconds) each."""
        values = self._numbers(msg, "p", 3)
        if values is None:
            return
        limit = max(0.0, self._now())
        for at in range(0, len(values), 3):
            self._parked += 1
            if self._parked > MAX_TASK_EVENTS:
                return
            task_id, line, since = values[at : at + 3]
            if task_id > 0:
                self.emit(TaskParked(task_id=task_id, line=m.optional_line(line), t=self._clamped(since / 1e6, limit)))
