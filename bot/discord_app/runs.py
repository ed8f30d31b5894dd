"""Starting, stopping and tracking runs for the Discord front-end (shared by `/run`, `/stop` and buttons).

`RunService.start()` validates everything that can fail *before* the interaction is answered (lesson and
example exist, the user's rate limit, the runner's admission: `UserBusy` / `QueueFull` / `RunnerClosed`), so
every failure can still be an ephemeral reply; then it defers (within Discord's 3 s) and hands the run to a
`RunStream` task that it keeps a strong reference to until the run's message has its final edit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from bot.config import DiscordSettings
from bot.core.catalog import Catalog
from bot.core.errors import RunnerClosed
from bot.core.record import RunRecord
from bot.core.storage import RunRecordRow, Storage
from bot.discord_app.errors import RateLimited
from bot.discord_app.i18n import lesson_locale
from bot.discord_app.render import RunView
from bot.discord_app.streaming import RunStream
from bot.discord_app.views.buttons import run_components

if TYPE_CHECKING:
    from bot.core.runner import Runner

log = logging.getLogger(__name__)


class RateLimiter:
    """At most `runs` starts per user in any `per_seconds` window (sliding)."""

    def __init__(self, runs: int, per_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.runs = runs
        self.per_seconds = per_seconds
        self.clock = clock
        self._starts: dict[int, deque[float]] = {}

    def retry_after(self, user: int) -> float:
        """0 when the user may start a run now, else seconds until they may."""
        starts = self._starts.get(user)
        if not starts:
            return 0.0
        now = self.clock()
        while starts and now - starts[0] >= self.per_seconds:
            starts.popleft()
        if not starts:
            del self._starts[user]
            return 0.0
        return 0.0 if len(starts) < self.runs else self.per_seconds - (now - starts[0])

    def hit(self, user: int) -> None:
        self._starts.setdefault(user, deque()).append(self.clock())


class RunService:
    def __init__(
        self, catalog: Catalog, runner: Runner, settings: DiscordSettings, storage: Storage | None = None
    ) -> None:
        self.catalog = catalog
        self.storage = storage  # finished runs are recorded here (lesson, example, status, elapsed)
        self.runner = runner
        self.settings = settings
        self.limiter = RateLimiter(settings.rate_limit.runs, settings.rate_limit.per_seconds)
        self.streams: dict[int, RunStream] = {}  # run id -> its stream, while streaming
        self.accepting = True
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(
        self, interaction: discord.Interaction[discord.Client], lesson_id: str, example_id: str | None
    ) -> RunStream:
        """Admit a run and start streaming it into the interaction's response; raises domain errors."""
        if not self.accepting:
            raise RunnerClosed()
        lesson, example = self.catalog.example(lesson_id, example_id or None)
        user = interaction.user.id
        self.runner.check_admission(user)  # "you already have a run" says more than "slow down"
        wait = self.limiter.retry_after(user)
        if wait > 0:
            raise RateLimited(self.limiter.runs, self.limiter.per_seconds, wait)
        run = self.runner.run(example.code, name=f"{example.id}.py", timeout=example.timeout, owner=user)
        self.limiter.hit(user)
        try:
            await interaction.response.defer(thinking=True)
        except BaseException:
            run.cancel()
            raise
        locale = lesson_locale(interaction.locale)
        view = RunView(
            lesson_title=lesson.title.get(locale), example_id=example.id, locale=locale, expect=example.expect
        )
        run_id, lesson_key, example_key = run.id, lesson.id, example.id

        def components(record: RunRecord) -> discord.ui.View:
            return run_components(record, owner=user, run_id=run_id, lesson_id=lesson_key, example_id=example_key,
                                  locale=locale)  # fmt: skip

        stream = RunStream(interaction, run, view, edit_interval=self.settings.edit_interval, components=components)
        self.streams[run.id] = stream
        where = (interaction.guild_id or 0, user, lesson.id, example.id)
        task = asyncio.create_task(self._stream(stream, where), name=f"run-{run.id}-stream")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        log.info("run %s started by %s: %s/%s", run.id, user, lesson.id, example.id)
        return stream

    async def _stream(self, stream: RunStream, where: tuple[int, int, str, str]) -> None:
        try:
            finished = await stream.stream()
            log.info(
                "run %s finished: %s after %d edits",
                stream.run.id, finished.status if finished else "?", stream.edits,
            )  # fmt: skip
            if finished is not None and self.storage is not None:
                guild, user, lesson_id, example_id = where
                await self.storage.record_run(
                    RunRecordRow(guild, user, lesson_id, example_id, str(finished.status), finished.elapsed)
                )
        except Exception:
            log.exception("run %s: streaming failed", stream.run.id)
        finally:
            self.streams.pop(stream.run.id, None)

    def stop_owner(self, user: int) -> int:
        return self.runner.cancel_owner(user)

    def find(self, run_id: int) -> RunStream | None:
        return self.streams.get(run_id)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Refuse new runs, cancel the running ones and wait (bounded) for their final 'restarting' edits."""
        self.accepting = False
        for stream in list(self.streams.values()):
            stream.stop_for_restart()
        tasks = list(self._tasks)
        if tasks:
            log.info("shutting down: waiting for %d run message(s) to be finalised", len(tasks))
            _done, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
