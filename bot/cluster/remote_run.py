"""`RemoteRun`: one run on a runner node, as this bot process sees it — the same async iterator of events as a
local `Run`, fed from the process's inbox stream.

What a node sends is data, like what a child prints: each event is read by `bot.core.wire.EventReader` (types
checked, strings clipped, times bounded by the run's timeout), must fit the run's shape (`Started` once, then
output, exactly one `Finished` last) and the run's budget (events and bytes, from this process's own runner
limits).  A node that breaks the shape or the budget gets the run ended `killed` with the reason, and is told to
stop it; anything after the `Finished` is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from bot.core.events import Event, Finished, Output, Queued, Started, Status
from bot.core.runner.limits import RunnerLimits
from bot.core.runner.process import MAX_BLOCKS, MAX_EVENT_BYTES, MAX_SEGMENTS, MAX_TASK_EVENTS
from bot.core.wire import BadEvent, EventReader

log = logging.getLogger(__name__)

MAX_ENTRY = 1024 * 1024  # bytes of one event as JSON (a batch of 400 run segments is ~45 KB; a line far less)
# Beyond the output lines and bytes, what a run may send at most: the runner's own caps on task events, loop-blocked
# reports and run segments (one event each at worst), their bytes as JSON, and room for the rest.
EXTRA_EVENTS = MAX_TASK_EVENTS + MAX_BLOCKS + MAX_SEGMENTS + 1_000
EXTRA_BYTES = 2 * MAX_EVENT_BYTES + 150 * MAX_SEGMENTS


class RemoteRun:
    """A run admitted (or being admitted) into the shared queue; see the module docstring."""

    def __init__(
        self,
        run_id: int,
        code: str,
        name: str,
        timeout: float,
        owner: int | None,
        limits: RunnerLimits,
        reader: EventReader,
        on_cancel: Callable[[RemoteRun], None],
    ) -> None:
        self.id = run_id
        self.code = code
        self.name = name
        self.timeout = timeout
        self.owner = owner
        self.python = ""  # the Python version it asked for
        self.stdin = ""  # what it reads on its standard input
        self.group = run_id  # the runs admitted together (a version comparison) share the first one's id
        self.result: Finished | None = None
        self.state = "admitting"  # -> queued -> running -> done
        self.node: str | None = None
        self.position: int | None = None
        self.started_at: float | None = None  # monotonic, when the node's Started arrived
        self.cancel_requested = False
        self.cancel_deadline: float | None = None
        self.gone_polls = 0  # position polls that found the run nowhere (lost with Redis's data)
        self._reader = reader
        self._on_cancel = on_cancel
        self._events: asyncio.Queue[Event | BaseException] = asyncio.Queue()
        self.ended = asyncio.Event()  # set with the Finished (or the refusal)
        self._iter_done = False
        self._budget_events = limits.output_lines + EXTRA_EVENTS
        self._budget_bytes = limits.output_bytes * 2 + EXTRA_BYTES
        self._unknown_logged = False
        self._seq = -1

    def __repr__(self) -> str:
        return f"<RemoteRun {self.id} {self.name!r} owner={self.owner} {self.state} node={self.node}>"

    # -- what a front-end uses ------------------------------------------------------------------------
    def __aiter__(self) -> RemoteRun:
        return self

    async def __anext__(self) -> Event:
        if self._iter_done:
            raise StopAsyncIteration
        item = await self._events.get()
        if isinstance(item, BaseException):
            self._iter_done = True
            raise item
        if isinstance(item, Finished):
            self._iter_done = True
        return item

    def cancel(self) -> None:
        """Stop the run wherever it is: queued runs end at once, a running one when its node confirms."""
        if self.state == "done" or self.cancel_requested:
            return
        self.cancel_requested = True
        self._on_cancel(self)

    async def wait(self) -> Finished:
        async for _ in self:
            pass
        assert self.result is not None
        return self.result

    # -- what the runner feeds in ---------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.state == "done"

    def refuse(self, error: BaseException) -> None:
        """Admission said no: the iterator raises `error` (a `RunnerError`)."""
        self.state = "done"
        self.ended.set()
        self._events.put_nowait(error)

    def emit(self, event: Event) -> None:
        if self.state == "done":
            return
        if isinstance(event, Finished):
            self.state = "done"
            self.result = event
            self.ended.set()
        self._events.put_nowait(event)

    def queued_at(self, position: int) -> None:
        """The run's place in the shared queue (<= 0: a node is about to take it)."""
        if self.state != "queued":
            return
        shown = max(position, 1)
        if position > 0 and shown != self.position:
            self.position = shown
            self.emit(Queued(position=shown))

    def end(self, status: Status, error: str) -> Finished:
        """End it here (the node is gone or misbehaved): the one `Finished`, with the reason."""
        elapsed = time.monotonic() - self.started_at if self.started_at is not None else 0.0
        finished = Finished(status, round(min(elapsed, self.timeout), 3), error=error)
        self.emit(finished)
        return finished

    def receive(self, raw: str, seq: str | None = None) -> str | None:
        """An event from the node, as JSON text, with its number in the run (a node that resent a batch after a
        lost reply sends some twice: those are dropped).  Returns why the run must be ended, or None."""
        if self.state == "done":
            return None
        if seq is not None:
            if not seq.isdigit() or len(seq) > 12:
                return "the runner node sent a malformed event number"
            if int(seq) <= self._seq:
                return None
            self._seq = int(seq)
        self._budget_events -= 1
        self._budget_bytes -= len(raw)
        if self._budget_events < 0 or self._budget_bytes < 0:
            return "the runner node sent more than one run may (events or bytes)"
        if len(raw) > MAX_ENTRY:
            return "the runner node sent an oversized event"
        try:
            data: Any = json.loads(raw)
        except ValueError:
            return "the runner node sent an event that is not JSON"
        kind = data.get("type") if isinstance(data, dict) else None
        if isinstance(kind, str) and kind not in self._reader.kinds:
            if not self._unknown_logged:  # a newer node's event type: skipped, within the budget
                log.info("run %s: skipping events of type %.40r, which this version does not know", self.id, kind)
                self._unknown_logged = True
            return None
        try:
            event = self._reader.read(data)
        except BadEvent as exc:
            return f"the runner node sent a malformed event ({exc})"
        return self._accept(event)

    def _accept(self, event: Event) -> str | None:
        if isinstance(event, Queued):
            return None  # places in the queue come from Redis, not from a node
        if isinstance(event, Started):
            if self.state == "running":
                return "the runner node started the run twice"
            self.state = "running"
            self.position = None
            self.started_at = time.monotonic()
            self.emit(event)
            return None
        if self.state != "running" and not isinstance(event, Finished):
            return f"the runner node sent {event.type!r} before the run started"
        if isinstance(event, Output) and "\n" in event.text:
            return "the runner node sent an output line with a newline in it"
        self.emit(event)
        return None
