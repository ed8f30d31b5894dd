"""Learner runs on Discord: start them through the core `Playground` (the gate: size, admins' switch, busy,
quota, the log), stream each into its message with the runs feature's `RunStream`, and follow up.

* Edit & run: the edited example runs; the lesson's original runs once per version of the example (shared by
  every learner, kept in `OriginalRuns`), and the final message shows the difference.  The member's version is
  kept in storage, so "Edit again" opens it, after a restart too.
* /try: a form or a one-line `code` option, optional standard input.
* "Run with corobot" on a message: its first Python block; for `edit_window` seconds an edit by its author
  re-runs it, editing the same reply (python-discord's eval does the same).  Who to follow is kept in memory.
* Exercises (their own feature) launch here too, with a grading step before the final edit.

Every check that can refuse a run happens before the interaction is answered, so a refusal is a private reply.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import discord

from bot.config import PlaygroundSettings
from bot.core.catalog import Catalog
from bot.core.errors import CorobotError, RunnerError
from bot.core.events import Event, Finished
from bot.core.lessons import Example, Lesson
from bot.core.playground import LearnerRequest, LearnerRun, Playground, code_hash, compare_runs
from bot.core.playground.service import Kind
from bot.core.playground.source import NoCode, code_from_message
from bot.core.record import RunHandle, RunRecord, record_run
from bot.core.runs import RunnerLike
from bot.core.tasks import OwnedTasks
from bot.discord_app.components import frozen_view
from bot.discord_app.context import NO_PINGS, Interaction
from bot.discord_app.errors import describe
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.playground.forms import EditButton, TryAgainButton, channels_of
from bot.discord_app.playground.message import LearnerNotes, render_learner
from bot.discord_app.runs.message import Rendered, RunView
from bot.discord_app.runs.stream import Controls, RunStream, RunTicket

log = logging.getLogger(__name__)

ORIGINAL_WAIT = 15.0  # seconds an edited run's final message waits for the original to finish
ORIGINALS_KEPT = 64  # finished originals kept (one per example version)
MAX_WATCHES = 1000  # messages followed for edits at once
OnEnd = Callable[[LearnerRun, RunRecord], Awaitable[None]]


class Held:
    """A run's events with its `Finished` held back until `on_end` has looked at the whole run (bounded by the
    caller), so the final edit can show what was worked out from it (a comparison, a grade)."""

    def __init__(self, run: LearnerRun, on_end: OnEnd) -> None:
        self.run = run
        self.on_end = on_end
        self.record = RunRecord()

    def __aiter__(self) -> Held:
        self._events = aiter(self.run.handle)
        return self

    async def __anext__(self) -> Event:
        event = await anext(self._events)
        self.record.add(event)
        if isinstance(event, Finished):
            try:
                await self.on_end(self.run, self.record)
            except Exception:
                log.exception("learner run %s: the step after its end failed", self.run.log_id)
        return event

    def cancel(self) -> None:
        self.run.handle.cancel()


class OriginalRuns:
    """The lesson's own run of each example version (lesson, example, code hash), run once and shared."""

    def __init__(self, runner: RunnerLike, tasks: OwnedTasks) -> None:
        self.runner = runner
        self.tasks = tasks
        self._runs: OrderedDict[tuple[str, str, str], asyncio.Task[RunRecord | None]] = OrderedDict()

    def get(self, lesson: Lesson, example: Example) -> asyncio.Task[RunRecord | None]:
        key = (lesson.id, example.id, code_hash(example.code))
        found = self._runs.get(key)
        if found is not None and not (found.done() and (found.cancelled() or found.result() is None)):
            self._runs.move_to_end(key)
            return found
        task = self.tasks.spawn(self._run(example), name=f"original-{lesson.id}-{example.id}")
        self._runs[key] = task
        while len(self._runs) > ORIGINALS_KEPT:
            self._runs.popitem(last=False)
        return task

    async def _run(self, example: Example) -> RunRecord | None:
        try:
            return await record_run(self.runner, example)
        except RunnerError as exc:  # the queue is full, the runner is closing: no comparison this time
            log.info("the original of %s could not run: %s", example.id, exc)
            return None


@dataclass(eq=False)
class Watch:
    """A message run with "Run with corobot": its author's edits re-run it for a while, in the same reply."""

    message_id: int
    author_id: int
    guild_id: int
    channels: tuple[int, ...]
    interaction: Interaction  # the menu's interaction: its reply is edited in place
    locale: str
    code: str
    until: float  # time.monotonic() deadline
    notes: LearnerNotes
    stream: RunStream | None = None
    pending: str | None = None  # the newest edited content not yet run
    runs: int = 0


class PlaygroundService:
    def __init__(
        self,
        core: Playground,
        catalog: Catalog,
        runner: RunnerLike,
        settings: PlaygroundSettings,
        edit_interval: float,
        stop_view: Callable[[RunTicket], discord.ui.View],
    ) -> None:
        """`stop_view` is what a running learner run's message carries (the feature's Stop button)."""
        self.core = core
        self.stop_view = stop_view
        self.catalog = catalog
        self.settings = settings
        self.edit_interval = edit_interval
        self.tasks = OwnedTasks()
        self.originals = OriginalRuns(runner, self.tasks)
        self.streams: dict[int, RunStream] = {}
        self.watches: dict[int, Watch] = {}
        self.accepting = True
        self._next = 0

    # -- starting ----------------------------------------------------------------------------------------

    async def launch(
        self,
        interaction: Interaction,
        request: LearnerRequest,
        view: RunView,
        notes: LearnerNotes,
        controls: Controls,
        on_end: OnEnd | None = None,
    ) -> RunStream:
        """Start a learner run (raises why not, before answering) and stream it into the reply."""
        run = await self._start(request)
        try:
            await interaction.response.defer(thinking=True)
        except BaseException:
            run.handle.cancel()
            raise
        return self._stream(interaction, run, view, notes, controls, on_end)

    async def _start(self, request: LearnerRequest) -> LearnerRun:
        if not self.accepting:
            raise RunnerError(message_id="run.closed")
        return await self.core.start(request)

    def _stream(
        self,
        interaction: Interaction,
        run: LearnerRun,
        view: RunView,
        notes: LearnerNotes,
        controls: Controls,
        on_end: OnEnd | None,
    ) -> RunStream:
        self._next += 1
        key = self._next
        handle: RunHandle = Held(run, on_end or self._finish)
        ticket = RunTicket(run.request.user_id, key, view.example_id, view.example_id, view.locale)
        render = partial(self._render, notes=notes)
        stream = RunStream(
            interaction, handle, view, ticket, edit_interval=self.edit_interval, controls=controls, render=render
        )
        self.streams[key] = stream
        self.tasks.spawn(self._follow_stream(key, stream), name=f"learner-{key}-stream", key=("stream", key))
        return stream

    @staticmethod
    def _render(record: RunRecord, view: RunView, final: bool, *, notes: LearnerNotes) -> Rendered:
        return render_learner(record, view, final, notes)

    async def _finish(self, run: LearnerRun, record: RunRecord) -> None:
        await self.core.finish(run, record.finished)

    async def _follow_stream(self, key: int, stream: RunStream) -> None:
        try:
            await stream.stream()
        except Exception:
            log.exception("learner run %s: streaming failed", key)
        finally:
            self.streams.pop(key, None)

    def find(self, key: int) -> RunStream | None:
        return self.streams.get(key)

    # -- the ways in -------------------------------------------------------------------------------------

    @staticmethod
    def request(
        interaction: Interaction,
        code: str,
        kind: Kind,
        *,
        source: str = "",
        stdin: str | None = None,
        name: str = "main.py",
        timeout: float | None = None,
    ) -> LearnerRequest:
        guild, channels = interaction.guild_id or 0, channels_of(interaction)
        user, stdin = interaction.user.id, stdin or None
        return LearnerRequest(code, user, kind, guild, channels, source, stdin, name, timeout)

    async def run_edit(
        self, interaction: Interaction, lesson_id: str, example_id: str, code: str, stdin: str | None
    ) -> RunStream:
        """Edit & run: the member's version of an example, compared with the lesson's own run of it."""
        lesson, example = self.catalog.example(lesson_id, example_id)
        locale = lesson_locale(interaction.locale)
        source = f"{lesson.id}/{example.id}"
        request = self.request(interaction, code, "edit", source=source, stdin=stdin, name=f"{example.id}.py")
        notes = LearnerNotes("edit", interaction.user.id, stdin_given=bool(stdin), original_id=example.id)
        original = self.originals.get(lesson, example)

        async def compare(run: LearnerRun, record: RunRecord) -> None:
            await self.core.finish(run, record.finished)
            try:
                before = await asyncio.wait_for(asyncio.shield(original), ORIGINAL_WAIT)
            except TimeoutError:
                before = None
            if before is None or before.finished is None or record.finished is None:
                notes.comparison_missing = True
                return
            notes.comparison = compare_runs(before, record)

        view = RunView(lesson.title.get(locale), example.id, locale)
        controls = self.edit_controls(lesson.id, example.id)
        stream = await self.launch(interaction, request, view, notes, controls, compare)
        await self.core.keep_version(interaction.user.id, "example", lesson.id, example.id, code)
        return stream

    async def run_try(self, interaction: Interaction, code: str, stdin: str | None) -> RunStream:
        """/try: the member's own program."""
        locale = lesson_locale(interaction.locale)
        request = self.request(interaction, code, "try", stdin=stdin)
        notes = LearnerNotes("try", interaction.user.id, stdin_given=bool(stdin))
        view = RunView(t(locale, "playground.try_header"), "main.py", locale)
        stream = await self.launch(interaction, request, view, notes, self.try_controls)
        await self.core.keep_version(interaction.user.id, "try", "", "", code)
        return stream

    async def run_message(self, interaction: Interaction, message: discord.Message) -> RunStream:
        """Run with corobot: the message's first Python block; its author's edits re-run it for a while."""
        locale = lesson_locale(interaction.locale)
        source = code_from_message(message.content)
        author = message.author.id
        request = self.request(interaction, source.code, "message", source=f"message:{message.id}")
        notes = LearnerNotes("message", author, origin=source.origin, jump_url=message.jump_url)
        view = RunView(t(locale, "playground.message_header"), "main.py", locale)
        stream = await self.launch(interaction, request, view, notes, self.message_controls)
        if self.settings.rerun_on_edit:
            until = time.monotonic() + self.settings.edit_window
            where = (request.guild_id, request.channels)
            self._watch(Watch(message.id, author, *where, interaction, locale, source.code, until, notes, stream))
        return stream

    # -- re-running an edited message ----------------------------------------------------------------------

    def _watch(self, watch: Watch) -> None:
        self.watches.pop(watch.message_id, None)
        self.watches[watch.message_id] = watch
        now = time.monotonic()
        for message_id in [m for m, w in self.watches.items() if w.until < now]:
            del self.watches[message_id]
        while len(self.watches) > MAX_WATCHES:  # the oldest first (dicts keep insertion order)
            del self.watches[next(iter(self.watches))]

    def message_edited(self, message_id: int, content: str | None) -> bool:
        """An edit of a message (MESSAGE_UPDATE): re-run it if it is followed and still in its window.  Returns
        whether a re-run is on its way.  `content` is None when the update carries none (an embed appearing)."""
        watch = self.watches.get(message_id)
        if watch is None or content is None or not self.accepting:
            return False
        if watch.until < time.monotonic():
            del self.watches[message_id]
            return False
        try:
            if code_from_message(content).code == watch.code:
                return False  # the text around the code changed, or an embed appeared: nothing new to run
        except NoCode:
            pass  # said in the reply by the re-run
        watch.pending = content
        if watch.stream is not None and not watch.stream.record.done:
            watch.stream.run.cancel()  # the newest version wins
        self.tasks.spawn(self._rerun(watch), name=f"rerun-{message_id}", key=("rerun", message_id))
        return True

    async def _rerun(self, watch: Watch) -> None:
        """Run the newest edited version, in the same reply, until no newer one is waiting."""
        while watch.pending is not None:
            content, watch.pending = watch.pending, None
            if watch.stream is not None:
                await self._ended(watch.stream)
            try:
                source = code_from_message(content)
                request = LearnerRequest(
                    source.code,
                    watch.author_id,
                    "message",
                    watch.guild_id,
                    watch.channels,
                    source=f"message:{watch.message_id}",
                )
                run = await self._start(request)
            except CorobotError as exc:
                await self._say_in_reply(watch, describe(exc, watch.locale, self.catalog))
                continue
            watch.code, watch.runs = source.code, watch.runs + 1
            watch.notes.origin, watch.notes.rerun = source.origin, watch.runs
            view = RunView(t(watch.locale, "playground.message_header"), "main.py", watch.locale)
            watch.stream = self._stream(watch.interaction, run, view, watch.notes, self.message_controls, None)
            log.info("message %s edited by %s: re-run %d", watch.message_id, watch.author_id, watch.runs)

    async def _ended(self, stream: RunStream, limit: float = 10.0) -> None:
        """Wait (bounded) until a stream has made its final edit, so that edit cannot land after the next run's."""
        task = self.tasks.get(("stream", stream.ticket.run_id))
        if task is not None:
            await asyncio.wait({task}, timeout=limit)

    async def _say_in_reply(self, watch: Watch, text: str) -> None:
        try:
            await watch.interaction.edit_original_response(
                content=clip(text, MESSAGE_LIMIT), view=None, attachments=[], allowed_mentions=NO_PINGS
            )
        except discord.HTTPException as exc:
            log.warning("message %s: could not show why it was not re-run: %s", watch.message_id, exc)

    # -- controls, stop, shutdown ----------------------------------------------------------------------------

    def edit_controls(self, lesson_id: str, example_id: str) -> Controls:
        def controls(ticket: RunTicket, record: RunRecord) -> discord.ui.View:
            if not record.done:
                return self.stop_view(ticket)
            if not EditButton.fits(lesson_id, example_id):
                return frozen_view()
            return frozen_view(EditButton(lesson_id, example_id, label=t(ticket.locale, "playground.edit_again")))

        return controls

    def try_controls(self, ticket: RunTicket, record: RunRecord) -> discord.ui.View:
        if not record.done:
            return self.stop_view(ticket)
        return frozen_view(TryAgainButton(label=t(ticket.locale, "playground.edit_again")))

    def message_controls(self, ticket: RunTicket, record: RunRecord) -> discord.ui.View:
        return self.stop_view(ticket) if not record.done else frozen_view()

    def stop(self, key: int) -> bool:
        stream = self.streams.get(key)
        if stream is None or stream.record.done:
            return False
        stream.run.cancel()
        return True

    async def shutdown(self, grace: float = 5.0) -> None:
        """Refuse new learner runs, stop the running ones (their messages say the bot is restarting)."""
        self.accepting = False
        self.watches.clear()
        for stream in list(self.streams.values()):
            stream.stop_for_restart()
        await self.tasks.close(grace, settle=1.0)
