"""`Playground`, the gate of learner code, with a real runner and a real SQLite file: what it refuses and in
which order, what it logs (a hash, never the code), the timeout, grading with points once and hints."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.core.errors import InputTooLarge, UserBusy
from bot.core.events import Status
from bot.core.lessons import Lesson
from bot.core.playground import LearnerRequest, MemoryQuota, Playground, PlaygroundLimits, QuotaLimits, Window
from bot.core.playground.quota import QuotaExceeded
from bot.core.playground.service import LearnerCodeOff
from bot.core.playground.source import CodeTooLarge, NoCode, code_hash
from bot.core.record import RunRecord
from bot.core.runner import Runner, RunnerLimits
from bot.storage.sqlite import SqliteStorage
from tests.core.test_exercises import LESSON

pytestmark = pytest.mark.timeout(90)

QUOTA = QuotaLimits(user=Window(2, 60.0), guild=Window(100, 60.0))


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[Playground, SqliteStorage, Runner]]:
    storage = SqliteStorage(tmp_path / "db.sqlite3")
    await storage.open()
    limits = PlaygroundLimits(code_chars=400, stdin_chars=10, timeout=1.0, quota=QUOTA)
    try:
        async with Runner(RunnerLimits(max_concurrent=4, per_user=1)) as runner:
            yield Playground(runner, storage, MemoryQuota(QUOTA), limits), storage, runner
    finally:
        await storage.close()


async def finish(playground: Playground, request: LearnerRequest) -> RunRecord:
    run = await playground.start(request)
    record = RunRecord()
    async for event in run.handle:
        record.add(event)
    await playground.finish(run, record.finished)
    return record


async def test_a_run_is_logged_by_hash_with_its_outcome(
    parts: tuple[Playground, SqliteStorage, Runner], caplog: pytest.LogCaptureFixture
) -> None:
    playground, storage, _ = parts
    code = "print(input() + ' secret-word')\n"
    request = LearnerRequest(code, 7, "try", guild_id=1, channels=(2, 3), stdin="hi")
    with caplog.at_level(logging.INFO, logger="bot.core.playground.service"):
        record = await finish(playground, request)
    assert record.stdout() == ["hi secret-word"]
    rows = await storage.fetch("SELECT guild_id, channel_id, user_id, kind, code_sha256, status FROM learner_runs")
    assert rows == [(1, 2, 7, "try", code_hash(code), "ok")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert code_hash(code) in logged and "user 7 in guild 1 channel 2" in logged
    assert "secret-word" not in logged  # the code is never logged


async def test_learner_runs_get_the_tighter_timeout(parts: tuple[Playground, SqliteStorage, Runner]) -> None:
    playground, _, _ = parts
    record = await finish(playground, LearnerRequest("import time\ntime.sleep(30)\n", 7, "try"))
    assert record.status == Status.TIMEOUT and record.finished is not None and record.finished.elapsed < 2.5


async def test_refusals_come_before_anything_runs_in_order(parts: tuple[Playground, SqliteStorage, Runner]) -> None:
    playground, storage, runner = parts
    with pytest.raises(NoCode):
        await playground.start(LearnerRequest("  \n", 7, "try"))
    with pytest.raises(CodeTooLarge):
        await playground.start(LearnerRequest("x = 1\n" * 70, 7, "try"))
    with pytest.raises(InputTooLarge):
        await playground.start(LearnerRequest("print(1)\n", 7, "try", stdin="x" * 11))
    await storage.set_learner_policy(1, 0, False)
    with pytest.raises(LearnerCodeOff) as off:
        await playground.start(LearnerRequest("print(1)\n", 7, "try", guild_id=1, channels=(5,)))
    assert off.value.message_id == "playground.off_guild"
    await storage.set_learner_policy(1, 5, True)  # a channel the admins opened in a closed server
    await storage.set_learner_policy(1, 6, False)
    assert await playground.allowed(1, (5,)) and not await playground.allowed(1, (6,))
    assert await playground.allowed(1, (8, 5))  # a thread (8) of channel 5 follows its parent
    with pytest.raises(LearnerCodeOff) as closed:
        await playground.start(LearnerRequest("print(1)\n", 7, "try", guild_id=1, channels=(6,)))
    assert closed.value.message_id == "playground.off_channel"
    assert await storage.fetch("SELECT COUNT(*) FROM learner_runs") == [(0,)]
    sleeper = "import time\ntime.sleep(0.5)\n"
    first = await playground.start(LearnerRequest(sleeper, 7, "try", guild_id=1, channels=(5,)))
    with pytest.raises(UserBusy):  # busy is said before the quota is touched
        await playground.start(LearnerRequest("print(1)\n", 7, "try"))
    async for _ in first.handle:
        pass
    await finish(playground, LearnerRequest("print(2)\n", 7, "try"))  # the user's second run in the window
    with pytest.raises(QuotaExceeded) as quota:
        await playground.start(LearnerRequest("print(3)\n", 7, "try"))
    assert quota.value.params["count"] == 2 and 50 <= int(str(quota.value.params["retry"])) <= 60
    assert runner.active == 0


async def test_grading_awards_points_once_and_hints_in_turn(parts: tuple[Playground, SqliteStorage, Runner]) -> None:
    playground, storage, _ = parts
    playground.quota = None
    lesson = Lesson.model_validate(yaml.safe_load(LESSON))
    exercise = lesson.exercises[0]

    async def submit(code: str) -> tuple[bool, bool, int]:
        request = LearnerRequest(code, 7, "exercise", guild_id=1, source="overlap/fast", name="fast.py")
        run = await playground.start(request)
        record = RunRecord()
        async for event in run.handle:
            record.add(event)
        result = await playground.grade(run, lesson, exercise, record)
        return result.grade.passed, result.awarded, result.hint_number

    assert await submit(exercise.starter) == (False, False, 1)
    assert await submit(exercise.starter) == (False, False, 2)
    assert await submit(exercise.starter) == (False, False, 2)  # the last hint stays
    assert await submit(exercise.solution) == (True, True, 0)
    assert await submit(exercise.solution) == (True, False, 0)  # passed again: no more points
    progress = await storage.progress(1, 7)
    assert (progress.correct, progress.points) == (1, exercise.points)
    assert await storage.learner_tries(1, 7, "exercise", "overlap/fast") == (5, 2)


async def test_versions_are_kept_per_learner(parts: tuple[Playground, SqliteStorage, Runner]) -> None:
    playground, _, _ = parts
    await playground.keep_version(7, "example", "hello", "hi", "print(1)\n")
    assert await playground.last_version(7, "example", "hello", "hi") == "print(1)\n"
    assert await playground.last_version(8, "example", "hello", "hi") is None


async def test_a_database_failure_keeps_the_grade_and_says_the_points_wait(
    parts: tuple[Playground, SqliteStorage, Runner],
) -> None:
    playground, storage, _ = parts
    playground.quota = None
    lesson = Lesson.model_validate(yaml.safe_load(LESSON))
    exercise = lesson.exercises[0]
    run = await playground.start(LearnerRequest(exercise.solution, 7, "exercise", guild_id=1, source="overlap/fast"))
    record = RunRecord()
    async for event in run.handle:
        record.add(event)
    await storage.close()  # the database goes away while the run was going
    result = await playground.grade(run, lesson, exercise, record)
    assert result.grade.passed and not result.saved and not result.awarded
