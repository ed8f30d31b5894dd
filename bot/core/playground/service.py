"""`Playground`: running a learner's own code — the one gate every front-end goes through.

`start(request)` checks, in this order, before anything runs: the code's size (and that there is code), the
input's size, the admins' switch for that server and channel, the runner's admission (one run per user),
then the learner-run quota (counted only for a run that will start); it then starts the run with the
learner-code timeout and logs it — user, server, channel, what it came from and a SHA-256 of the code,
never the code — to the log and to the database.  `finish()` records how it ended; `grade()` does that for
an exercise, awards its points once and picks the hint to offer after a failed try.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.core.errors import CorobotError, InputTooLarge, StorageError
from bot.core.events import Finished
from bot.core.exercises import Grade, exercise_ref, grade
from bot.core.lessons import Exercise, Lesson, Text
from bot.core.playground.quota import LearnerQuota, QuotaExceeded, QuotaLimits
from bot.core.playground.source import checked, code_hash
from bot.core.record import RunHandle, RunRecord
from bot.core.storage import LearnerRunRow, LearnerStorage

log = logging.getLogger(__name__)

Kind = Literal["try", "message", "edit", "exercise"]
ItemKind = Literal["example", "exercise", "try"]  # what a kept version is of ("try": the last /try code)


class LearnerRunner(Protocol):
    """What running learner code needs of `bot.core.runner.Runner`."""

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        stdin: str | None = None,
    ) -> RunHandle: ...

    def submit(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        stdin: str | None = None,
    ) -> Awaitable[RunHandle]:
        """`run` with its admission awaited (a remote runner's is a round trip): refusals come before anything ran."""
        ...

    def check_admission(self, owner: int | None = None) -> None: ...


class LearnerCodeOff(CorobotError):
    def __init__(self, scope: Literal["guild", "channel"]) -> None:
        super().__init__(message_id="playground.off_channel" if scope == "channel" else "playground.off_guild")


@dataclass(frozen=True, slots=True)
class PlaygroundLimits:
    code_chars: int = 4000  # a Discord form field holds 4,000 characters
    stdin_chars: int = 4000
    timeout: float = 10.0  # seconds per learner run
    enabled: bool = True  # where no admin has switched learner code on or off
    quota: QuotaLimits | None = None  # the quota's own limits, for its refusal text


@dataclass(frozen=True, slots=True)
class LearnerRequest:
    code: str
    user_id: int
    kind: Kind
    guild_id: int = 0  # 0: a direct message, or the console
    channels: tuple[int, ...] = ()  # the channel, then its parent (a thread's): the switch is looked up in order
    source: str = ""  # lesson/example or lesson/exercise it started from
    stdin: str | None = None
    name: str = "main.py"  # what tracebacks call the program
    timeout: float | None = None  # seconds; None: the learner-code timeout (an exercise may set its own)


@dataclass(frozen=True, slots=True)
class LearnerRun:
    request: LearnerRequest
    handle: RunHandle
    log_id: str
    digest: str  # SHA-256 of the code


@dataclass(frozen=True, slots=True)
class ExerciseResult:
    grade: Grade
    awarded: bool  # points were recorded by this submission (the first that passed)
    points: int
    hint: Text | None  # offered after a failed try: the next one in the exercise's list
    hint_number: int  # 1-based, 0 when no hint
    hints: int  # how many hints the exercise has
    tries: int  # graded tries so far, this one included
    saved: bool = True  # False: the database failed, so the points (if any) are not recorded yet


class Playground:
    def __init__(
        self,
        runner: LearnerRunner,
        storage: LearnerStorage | None,
        quota: LearnerQuota | None,
        limits: PlaygroundLimits,
    ) -> None:
        self.runner = runner
        self.storage = storage
        self.quota = quota
        self.limits = limits

    async def allowed(self, guild_id: int, channels: tuple[int, ...]) -> bool:
        """Whether learner code may run there: the first channel an admin set, else the server's setting,
        else the configured default."""
        if self.storage is None or not guild_id:
            return self.limits.enabled
        policy = await self.storage.learner_policy(guild_id)
        for channel in channels:
            if channel in policy:
                return policy[channel]
        return policy.get(0, self.limits.enabled)

    async def refuse_if_off(self, guild_id: int, channels: tuple[int, ...]) -> None:
        if not await self.allowed(guild_id, channels):
            policy = await self.storage.learner_policy(guild_id) if self.storage is not None else {}
            raise LearnerCodeOff("channel" if any(c in policy for c in channels) else "guild")

    async def start(self, request: LearnerRequest) -> LearnerRun:
        """Admit and start a learner run; raises a `CorobotError` saying why not, before anything ran."""
        code = checked(request.code, self.limits.code_chars)
        stdin = request.stdin or None
        if stdin is not None and len(stdin) > self.limits.stdin_chars:
            raise InputTooLarge(len(stdin), self.limits.stdin_chars)
        await self.refuse_if_off(request.guild_id, request.channels)
        self.runner.check_admission(request.user_id)
        if self.quota is not None:
            decision = await self.quota.take(request.guild_id, request.user_id)
            if not decision.allowed:
                assert self.limits.quota is not None, "a quota needs its limits"
                window = self.limits.quota.user if decision.scope == "user" else self.limits.quota.guild
                raise QuotaExceeded(decision, window)
        timeout = request.timeout if request.timeout is not None else self.limits.timeout
        handle = await self.runner.submit(code, name=request.name, timeout=timeout, owner=request.user_id, stdin=stdin)
        run = LearnerRun(request, handle, secrets.token_hex(8), code_hash(code))
        channel = request.channels[0] if request.channels else 0
        where = (request.user_id, request.guild_id, channel)
        what = (run.digest, len(code), len(stdin or ""))
        source = f" {request.source}" if request.source else ""
        log.info(
            "learner run %s (%s%s) by user %s in guild %s channel %s: sha256 %s, %d characters, stdin %d",
            *(run.log_id, request.kind, source, *where, *what),
        )
        if self.storage is not None:
            row = LearnerRunRow(
                run.log_id, request.guild_id, channel, request.user_id, request.kind, request.source, *what, time.time()
            )
            try:
                await self.storage.log_learner_run(row)
            except StorageError as exc:  # the log line above has it all; the learner is not refused for it
                log.warning("learner run %s: not in the database's log (%s)", run.log_id, exc)
        return run

    async def finish(self, run: LearnerRun, finished: Finished | None, passed: bool | None = None) -> None:
        """Record how the run ended (status, elapsed, and for an exercise whether it passed)."""
        status = str(finished.status) if finished is not None else "unknown"
        elapsed = finished.elapsed if finished is not None else 0.0
        log.info("learner run %s ended %s after %.3f s", run.log_id, status, elapsed)
        if self.storage is not None:
            try:
                await self.storage.finish_learner_run(run.log_id, status, elapsed, passed)
            except StorageError as exc:
                log.warning("learner run %s: its end is not in the database's log (%s)", run.log_id, exc)

    async def grade(self, run: LearnerRun, lesson: Lesson, exercise: Exercise, record: RunRecord) -> ExerciseResult:
        """Grade a finished exercise run, record it, award the points the first time it passes, pick a hint."""
        result = grade(exercise, record, run.request.code)
        await self.finish(run, record.finished, passed=result.passed)
        awarded, tries, failed, saved = False, 1, 0 if result.passed else 1, True
        if self.storage is not None:
            who = (run.request.guild_id, run.request.user_id)
            try:
                if result.passed:
                    awarded = await self.storage.award_exercise(
                        *who, lesson.id, exercise.id, exercise.points, run.digest
                    )
                tries, passes = await self.storage.learner_tries(*who, "exercise", exercise_ref(lesson, exercise))
                failed = tries - passes
            except StorageError as exc:  # the grade stands; the member is told the points wait for the next try
                log.warning("exercise %s by user %s: not recorded (%s)", exercise.id, run.request.user_id, exc)
                saved = False
        hint: Text | None = None
        number = 0
        if not result.passed and exercise.hints:
            number = min(max(failed, 1), len(exercise.hints))
            hint = exercise.hints[number - 1]
        return ExerciseResult(result, awarded, exercise.points, hint, number, len(exercise.hints), tries, saved)

    async def last_version(self, user_id: int, kind: ItemKind, lesson_id: str, item_id: str) -> str | None:
        if self.storage is None:
            return None
        return await self.storage.learner_code(user_id, kind, lesson_id, item_id)

    async def keep_version(self, user_id: int, kind: ItemKind, lesson_id: str, item_id: str, code: str) -> None:
        """Keep the learner's latest version of an example or exercise (a failure to save is not fatal)."""
        if self.storage is None:
            return
        try:
            await self.storage.save_learner_code(user_id, kind, lesson_id, item_id, code)
        except StorageError as exc:
            log.warning("could not keep user %s's version of %s/%s: %s", user_id, lesson_id, item_id, exc)
