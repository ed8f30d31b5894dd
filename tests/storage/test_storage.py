"""The storage protocol on both databases: exactly-once answers, progress, restart, one session per channel."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.errors import StorageConflict, StorageSchemaError
from bot.core.storage import AnswerRow, RunRecordRow
from bot.storage.migrations import LATEST
from bot.storage.sql import SqlStorage
from bot.storage.url import storage_for


async def test_schema_is_at_the_latest_version(store: SqlStorage) -> None:
    assert await store.schema_version() == LATEST >= 2
    assert await store.migrate() == (LATEST, LATEST)  # nothing left to do


async def test_fifty_concurrent_answers_recorded_exactly_once(store: SqlStorage) -> None:
    async def answer(uid: int, value: str) -> None:
        await store.record_answer(1, AnswerRow("quiz-1", "q1", uid, value, at=1000.0 + uid))

    await asyncio.gather(*(answer(uid, "a") for uid in range(50)))
    await asyncio.gather(*(answer(uid, "b") for uid in range(0, 50, 5)))  # ten change their answer
    rows = await store.answers("quiz-1", "q1")
    assert len(rows) == 50
    assert sorted(r.user_id for r in rows) == list(range(50))
    assert sum(r.answer == "b" for r in rows) == 10
    assert await store.fetch("SELECT SUM(changes), COUNT(*) FROM answers") == [(10, 50)]


async def test_the_same_answer_racing_itself_is_one_row(store: SqlStorage) -> None:
    """A double click: twenty writes of one member's answer at once are one row, changed 19 times."""
    await asyncio.gather(*(store.record_answer(1, AnswerRow("qz", "q1", 7, ["x", i], at=1.0 + i)) for i in range(20)))
    [row] = await store.answers("qz", "q1")
    assert row.user_id == 7 and row.answer[0] == "x"
    assert await store.fetch("SELECT changes FROM answers") == [(19,)]


async def test_progress_and_leaderboard(store: SqlStorage) -> None:
    await store.mark_lesson(1, 7, "await-keyword", completed=False)
    await store.mark_lesson(1, 7, "await-keyword", completed=True)
    await store.mark_lesson(1, 7, "create-task", completed=False)
    await store.record_run(RunRecordRow(1, 7, "await-keyword", "start-end", "ok", 1.0))
    await store.record_run(RunRecordRow(1, 7, "await-keyword", "start-end", "timeout", 2))
    for uid in (7, 8, 9):
        await store.record_answer(1, AnswerRow("qz", "q1", uid, "x", at=1000.0))
    await store.score_answers("qz", "q1", {7: (True, 10), 8: (False, 0), 9: (True, 7)})
    progress = await store.progress(1, 7)
    assert progress.lessons_started == ["await-keyword", "create-task"]
    assert progress.lessons_completed == ["await-keyword"]
    assert (progress.examples_run, progress.runs_ok) == (2, 1)
    assert (progress.answers, progress.correct, progress.points, progress.accuracy) == (1, 1, 10, 1.0)
    assert await store.leaderboard(1, "all") == [(7, 10, 1), (9, 7, 1), (8, 0, 0)]
    assert await store.leaderboard(1, "week") == []  # answered in 1970
    assert await store.leaderboard(2, "all") == []


async def test_discord_snowflakes_and_unix_times_keep_every_bit(store: SqlStorage) -> None:
    """Discord ids need 64 bits and unix times need a double (PostgreSQL's INTEGER and REAL would not do)."""
    guild, user, channel = 1_234_567_890_123_456_789, 2**63 - 1, 987_654_321_098_765_432
    await store.record_answer(guild, AnswerRow("qz", "q1", user, {"v": [1, "二"]}, at=1_767_225_600.123456))
    await store.save_session("s", guild, channel, {"n": 1})
    [row] = await store.answers("qz", "q1")
    assert (row.user_id, row.answer, row.at) == (user, {"v": [1, "二"]}, 1_767_225_600.123456)
    assert await store.active_sessions() == [("s", guild, channel, {"n": 1})]
    await store.record_run(RunRecordRow(guild, user, "l", "e", "ok", 0.123456789))
    assert await store.fetch("SELECT elapsed FROM runs") == [(0.123456789,)]


async def test_state_survives_reopen_and_one_active_session_per_channel(storage_url: str) -> None:
    first = storage_for(storage_url)
    await first.open()
    await first.save_session("s1", 1, 42, {"step": 3})
    await first.save_quiz("qz", 1, 42, {"index": 1})
    await first.record_answer(1, AnswerRow("qz", "q1", 5, "a", at=3.0))
    with pytest.raises(StorageConflict) as err:
        await first.save_session("s2", 1, 42, {"step": 0})
    assert err.value.message_id == "storage.conflict" and err.value.operation == "save a study session"
    await first.close()
    second = storage_for(storage_url)
    await second.open()
    assert await second.active_sessions() == [("s1", 1, 42, {"step": 3})]
    assert await second.active_quizzes() == [("qz", 1, 42, {"index": 1})]
    assert [(r.user_id, r.answer) for r in await second.answers("qz", "q1")] == [(5, "a")]
    await second.end_session("s1")
    await second.end_quiz("qz")
    await second.save_session("s2", 1, 42, {"step": 0})
    assert [s[0] for s in await second.active_sessions()] == ["s2"]
    assert await second.active_quizzes() == []
    await second.close()


async def test_a_newer_schema_is_refused(storage_url: str) -> None:
    store = storage_for(storage_url)
    await store.open()
    if store.dialect == "sqlite":
        await store._write("pretend to be newer", "PRAGMA user_version = 99")
    else:
        await store._write("pretend to be newer", "INSERT INTO corobot_schema (version) VALUES (99)")
    await store.close()
    with pytest.raises(StorageSchemaError, match="newer") as err:
        await storage_for(storage_url).open()
    assert "99" in str(err.value) and "Upgrade corobot" in str(err.value)


async def test_a_closed_storage_says_so(storage_url: str) -> None:
    from bot.core.errors import StorageUnavailable

    store = storage_for(storage_url)
    with pytest.raises(StorageUnavailable, match="not open"):
        await store.progress(1, 1)


async def test_a_conflict_is_not_logged_as_a_fault(store: SqlStorage, caplog: pytest.LogCaptureFixture) -> None:
    await store.save_session("s1", 1, 42, {})
    with pytest.raises(StorageConflict):
        await store.save_session("s2", 1, 42, {})
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]
