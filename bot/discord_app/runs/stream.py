"""Stream one run into one Discord message.

The consumer loop feeds every event into a `RunRecord` and sets a flag; a separate editor task (the jishaku
pattern) wakes on the flag, edits the message once with the whole current state, then waits
`edit_interval` seconds before it may edit again, so a chatty program costs at most ~1 edit per second.
When the run finishes the editor stops (never in the middle of an edit, so no stale edit can land after
the final one) and one final edit shows the summary, attaching the full output when it did not fit and the
timeline image (rendered in a thread: tens of milliseconds of CPU that must not stall the bot's loop).  Right
after `Started` the editor waits up to 0.25 s for the first line, so "running" and the first output are one edit.

The message is the interaction's original response.  Interaction tokens expire after 15 minutes: when that
is near, or an edit is refused with an invalid-token error, the stream sends a new channel message and keeps
editing that one instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import discord

from bot.core.events import Finished, Output, RunsCapped, TaskParked, TaskRuns
from bot.core.record import RunHandle, RunRecord
from bot.discord_app.context import NO_PINGS, Interaction
from bot.discord_app.runs.message import ATTACHMENT_NAME, TIMELINE_IMAGE, Rendered, RunView, render_run, timeline_image

log = logging.getLogger(__name__)

TOKEN_LIFETIME = datetime.timedelta(minutes=15)
FIRST_OUTPUT_GRACE = 0.25  # seconds an edit right after Started waits for the first line
TOKEN_MARGIN = datetime.timedelta(seconds=30)
_INVALID_TOKEN_CODES = {50027, 10015}  # Invalid Webhook Token, Unknown Webhook


@dataclass(frozen=True, slots=True)
class RunTicket:
    """Which run a message shows, for its buttons: who started it, its id, the lesson and example."""

    owner: int
    run_id: int
    lesson_id: str
    example_id: str
    locale: str
    python: str | None = None  # the version the member chose ("Run again" keeps it); None: the default


Controls = Callable[[RunTicket, RunRecord], discord.ui.View]  # Stop while running, Run again when done
Renderer = Callable[[RunRecord, RunView, bool], Rendered]  # (record, view, final) -> the message


def render_plain(record: RunRecord, view: RunView, final: bool) -> Rendered:
    return render_run(record, view, final=final)


def _token_rejected(exc: discord.HTTPException) -> bool:
    return exc.status == 401 or exc.code in _INVALID_TOKEN_CODES


class RunStream:
    """Renders `run` into the response of `interaction` until the run finishes."""

    def __init__(
        self,
        interaction: Interaction,
        run: RunHandle,
        view: RunView,
        ticket: RunTicket,
        *,
        edit_interval: float,
        controls: Controls,
        render: Renderer = render_plain,
    ) -> None:
        """`render` words the message (learner code adds its label and comparison to `render_run`'s)."""
        self.interaction = interaction
        self.render = render
        self.run = run
        self.ticket = ticket
        self.run_id = ticket.run_id
        self.view = view
        self.edit_interval = edit_interval
        self.controls = controls
        self.record = RunRecord(f"run {ticket.run_id}")
        self.restarting = False
        self.edits = 0  # edits sent (live + final), for benchmarks and logs
        self.first_output_at: float | None = None  # perf_counter when an edit first showed output
        self.fallback: discord.Message | None = None
        self._dirty = asyncio.Event()
        self._done = asyncio.Event()
        self._lock = asyncio.Lock()
        self._has_output = asyncio.Event()
        self._continued = False  # the interaction token expired: output continues in a channel message
        self.timeline_png: bytes | None = None  # drawn once the run has finished, attached to the final edit

    def stop_for_restart(self) -> None:
        """Shutdown: cancel the run; the final edit says the bot is restarting."""
        self.restarting = True
        self.run.cancel()

    async def stream(self) -> Finished | None:
        editor = asyncio.create_task(self._editor(), name=f"run-{self.run_id}-editor")
        try:
            await self._consume()
        except asyncio.CancelledError:
            self.run.cancel()
            raise
        finally:
            self._done.set()
            self._dirty.set()
            await asyncio.gather(editor, return_exceptions=True)
        try:
            self.timeline_png = await asyncio.to_thread(timeline_image, self.record, self.view)
        except Exception:  # the run's message matters more than its picture
            log.exception("run %s: drawing the timeline failed", self.run_id)
        await self._push(final=True)
        return self.record.finished

    async def _consume(self) -> None:
        """Feed the run's events into the record, waking the editor (a comparison feeds several runs)."""
        async for event in self.run:
            self.record.add(event)
            if isinstance(event, Output):
                self._has_output.set()
            if not isinstance(event, TaskRuns | TaskParked | RunsCapped):  # drawn only once it has ended
                self._dirty.set()

    async def _editor(self) -> None:
        while True:
            await self._dirty.wait()
            if self._done.is_set():
                return
            if self.record.started and not self._has_output.is_set():
                # Just started: give the first line a moment so "running" and the first output are one edit.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._has_output.wait(), FIRST_OUTPUT_GRACE)
                if self._done.is_set():
                    return
            self._dirty.clear()
            await self._push(final=False)
            try:
                await asyncio.wait_for(self._done.wait(), self.edit_interval)
            except TimeoutError:
                continue
            return

    def _render(self, final: bool) -> Rendered:
        view = dataclasses.replace(self.view, restarting=self.restarting, continued=self._continued)
        return self.render(self.record, view, final)

    def _token_expiring(self) -> bool:
        age = discord.utils.utcnow() - self.interaction.created_at
        return age > TOKEN_LIFETIME - TOKEN_MARGIN

    async def _push(self, *, final: bool) -> None:
        async with self._lock:
            rendered = self._render(final)
            attempts = 3 if final else 1
            for attempt in range(attempts):
                try:
                    await self._send(rendered, final)
                    self.edits += 1
                    if self.first_output_at is None and self.record.lines:
                        self.first_output_at = time.perf_counter()
                    return
                except discord.HTTPException as exc:
                    failure = (exc.status, exc.code, attempt + 1, attempts)
                    log.warning("run %s: edit failed (%s %s, attempt %d/%d)", self.run_id, *failure)
                    if attempt + 1 < attempts:
                        await asyncio.sleep(1.0 + attempt)

    def _files(self, rendered: Rendered, final: bool) -> list[discord.File]:
        files = [discord.File(io.BytesIO(rendered.attachment.encode()), ATTACHMENT_NAME)] if rendered.attachment else []
        if final and self.timeline_png is not None:
            files.append(discord.File(io.BytesIO(self.timeline_png), TIMELINE_IMAGE))
        return files

    async def _send(self, rendered: Rendered, final: bool) -> None:
        view = self.controls(self.ticket, self.record)
        files = self._files(rendered, final)
        if self.fallback is None and self._token_expiring():
            log.info("run %s: interaction token about to expire; continuing in a channel message", self.run_id)
            await self._start_fallback(final)
            return
        if self.fallback is None:
            try:
                await self.interaction.edit_original_response(
                    content=rendered.content, attachments=files, view=view, allowed_mentions=NO_PINGS
                )
                return
            except discord.HTTPException as exc:
                if not _token_rejected(exc):
                    raise
                log.info(
                    "run %s: interaction token rejected (%s); continuing in a channel message", self.run_id, exc.code
                )
            await self._start_fallback(final)
            return
        await self.fallback.edit(content=rendered.content, attachments=files, view=view, allowed_mentions=NO_PINGS)

    async def _start_fallback(self, final: bool) -> None:
        channel = self.interaction.channel
        if channel is None or not isinstance(channel, discord.abc.Messageable):
            raise discord.ClientException("no channel to continue the run in")
        self._continued = True
        rendered = self._render(final)
        files = self._files(rendered, final)
        self.fallback = await channel.send(
            content=rendered.content,
            files=files,
            view=self.controls(self.ticket, self.record),
            allowed_mentions=NO_PINGS,
        )
