"""Starting, stopping and tracking runs (shared by `/run`, `/stop`, the Run and Stop buttons and study sessions).

`RunService.start()` validates everything that can fail *before* the interaction is answered (lesson and
example exist, the member's rate limit, the runner's admission: `UserBusy` / `QueueFull` / `RunnerClosed`), so
every failure can still be an ephemeral reply; then it defers (within Discord's 3 s) and hands the run to a
`RunStream` task, held until the run's message has its final edit.  Finished runs are recorded in storage.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from bot.config import DiscordSettings
from bot.core.catalog import Catalog
from bot.core.compare import RunGroup, expect_on, versions_for
from bot.core.errors import RunnerClosed
from bot.core.record import RunHandle, run_name
from bot.core.runs import RunnerLike
from bot.core.storage import RunRecordRow, Storage
from bot.core.tasks import OwnedTasks
from bot.discord_app.context import Interaction
from bot.discord_app.errors import RateLimited
from bot.discord_app.i18n import lesson_locale
from bot.discord_app.runs.compare import CompareStream, CompareView
from bot.discord_app.runs.message import RunView
from bot.discord_app.runs.stream import Controls, RunStream, RunTicket

log = logging.getLogger(__name__)

RunHook = Callable[[int, int], Awaitable[object]]  # (guild, member) after their run was stored


class RateLimiter:
    """At most `runs` starts per member in any `per_seconds` window (sliding)."""

    def __init__(self, runs: int, per_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.runs = runs
        self.per_seconds = per_seconds
        self.clock = clock
        self._starts: dict[int, deque[float]] = {}

    def retry_after(self, user: int) -> float:
        """0 when the member may start a run now, else seconds until they may."""
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
        self, catalog: Catalog, runner: RunnerLike, settings: DiscordSettings, storage: Storage, controls: Controls
    ) -> None:
        self.on_recorded: list[RunHook] = []  # other features' hooks (guild, member) after a run is stored
        self.catalog = catalog
        self.runner = runner
        self.settings = settings
        self.storage = storage  # finished runs are recorded here (lesson, example, status, elapsed)
        self.controls = controls
        self.limiter = RateLimiter(settings.rate_limit.runs, settings.rate_limit.per_seconds)
        self.streams: dict[int, RunStream] = {}  # run id -> its stream, while streaming
        self.accepting = True
        self.tasks = OwnedTasks()

    async def start(
        self, interaction: Interaction, lesson_id: str, example_id: str | None, python: str | None = None
    ) -> RunStream:
        """Admit a run (on the `python` version the member chose, if any; a version comparison on each of its
        versions when none was chosen) and start streaming it into the interaction's response; raises domain
        errors."""
        if not self.accepting:
            raise RunnerClosed()
        lesson, example = self.catalog.example(lesson_id, example_id or None)
        pythons = self.runner.pythons
        versions = versions_for(example, pythons, python)
        user = interaction.user.id
        self.runner.check_admission(user, runs=len(versions))  # "you already have a run" says more than "slow down"
        wait = self.limiter.retry_after(user)
        if wait > 0:
            raise RateLimited(self.limiter.runs, self.limiter.per_seconds, wait)
        name, timeout = run_name(example), example.timeout
        group: RunGroup | None = None
        if len(versions) > 1:
            runs = await self.runner.submit_versions(example.code, versions, name=name, timeout=timeout, owner=user)
            group = RunGroup(dict(zip(versions, runs, strict=True)))
            run: RunHandle = group
            run_id = runs[0].id
        else:
            single = await self.runner.submit(example.code, name=name, timeout=timeout, owner=user, python=versions[0])
            run, run_id = single, single.id
        self.limiter.hit(user)
        try:
            await interaction.response.defer(thinking=True)
        except BaseException:
            run.cancel()
            raise
        locale = lesson_locale(interaction.locale)
        shown = pythons.release(versions[0]) if len(pythons.versions) > 1 and group is None else None
        expect = expect_on(example, versions[0])
        view = RunView(lesson.title.get(locale), example.id, locale, expect, python=shown, source=example.code)
        chosen = versions[0] if python is not None else None
        ticket = RunTicket(user, run_id, lesson.id, example.id, locale, chosen)
        interval = self.settings.edit_interval
        stream: RunStream
        if group is not None:
            compare = CompareView(view, example, pythons)
            stream = CompareStream(interaction, group, compare, ticket, edit_interval=interval, controls=self.controls)
        else:
            stream = RunStream(interaction, run, view, ticket, edit_interval=interval, controls=self.controls)
        self.streams[run_id] = stream
        self.tasks.spawn(self._stream(stream, interaction.guild_id or 0, ticket), name=f"run-{run_id}-stream")
        log.info("run %s started by %s: %s/%s on python %s", run_id, user, lesson.id, example.id, ", ".join(versions))
        return stream

    async def _stream(self, stream: RunStream, guild_id: int, ticket: RunTicket) -> None:
        try:
            finished = await stream.stream()
            status = finished.status if finished else "?"
            log.info("run %s finished: %s after %d edits", ticket.run_id, status, stream.edits)
            if finished is not None:
                row = RunRecordRow(
                    guild_id, ticket.owner, ticket.lesson_id, ticket.example_id, str(finished.status), finished.elapsed
                )
                await self.storage.record_run(row)
                for hook in self.on_recorded:
                    try:
                        await hook(guild_id, ticket.owner)
                    except Exception:
                        log.exception("run %s: a hook failed", ticket.run_id)
        except Exception:
            log.exception("run %s: streaming failed", ticket.run_id)
        finally:
            self.streams.pop(ticket.run_id, None)

    def stop_owner(self, user: int) -> int:
        return self.runner.cancel_owner(user)

    def find(self, run_id: int) -> RunStream | None:
        return self.streams.get(run_id)

    async def shutdown(self, grace: float = 5.0) -> None:
        """Refuse new runs, cancel the running ones and wait (bounded) for their final 'restarting' edits."""
        self.accepting = False
        for stream in list(self.streams.values()):
            stream.stop_for_restart()
        if len(self.tasks):
            log.info("shutting down: waiting for %d run message(s) to be finalised", len(self.tasks))
        await self.tasks.close(grace, settle=1.0)
