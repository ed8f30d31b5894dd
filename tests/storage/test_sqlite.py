"""The SQLite adapter on a real file: migrations, exactly-once answers, restart, corrupt/unwritable files."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from bot.core.storage import AnswerRow, RunRecordRow
from bot.storage.sqlite import SqliteStorage, StorageError


@pytest.fixture
async def store(tmp_path: Path):
    s = SqliteStorage(tmp_path / "data" / "corobot.sqlite3")
    await s.open()
    yield s
    await s.close()


async def test_schema_version_and_wal(store: SqliteStorage) -> None:
    async with store.db.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"
    async with store.db.execute("PRAGMA user_version") as cur:
        assert (await cur.fetchone())[0] >= 1


async def test_fifty_concurrent_answers_recorded_exactly_once(store: SqliteStorage) -> None:
    async def answer(uid: int, value: str) -> None:
        await store.record_answer(1, AnswerRow("quiz-1", "q1", uid, value, at=1000.0 + uid))

    await asyncio.gather(*(answer(uid, "a") for uid in range(50)))
    await asyncio.gather(*(answer(uid, "b") for uid in range(0, 50, 5)))  # ten change their answer
    rows = await store.answers("quiz-1", "q1")
    assert len(rows) == 50
    assert sorted(r.user_id for r in rows) == list(range(50))
    assert sum(r.answer == "b" for r in rows) == 10
    async with store.db.execute("SELECT SUM(changes) FROM answers") as cur:
        assert (await cur.fetchone())[0] == 10


async def test_progress_and_leaderboard(store: SqliteStorage) -> None:
    await store.mark_lesson(1, 7, "await-keyword", completed=False)
    await store.mark_lesson(1, 7, "await-keyword", completed=True)
    await store.mark_lesson(1, 7, "create-task", completed=False)
    await store.record_run(RunRecordRow(1, 7, "await-keyword", "start-end", "ok", 1.0))
    await store.record_run(RunRecordRow(1, 7, "await-keyword", "start-end", "timeout", 2.0))
    for uid in (7, 8, 9):
        await store.record_answer(1, AnswerRow("qz", "q1", uid, "x", at=2e9))
    await store.score_answers("qz", "q1", {7: (True, 10), 8: (False, 0), 9: (True, 7)})
    progress = await store.progress(1, 7)
    assert progress.lessons_started == ["await-keyword", "create-task"]
    assert progress.lessons_completed == ["await-keyword"]
    assert (progress.examples_run, progress.runs_ok) == (2, 1)
    assert (progress.answers, progress.correct, progress.points, progress.accuracy) == (1, 1, 10, 1.0)
    assert await store.leaderboard(1, "all") == [(7, 10, 1), (9, 7, 1), (8, 0, 0)]
    assert await store.leaderboard(2, "week") == []


async def test_state_survives_reopen_and_one_active_session_per_channel(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = SqliteStorage(path)
    await first.open()
    await first.save_session("s1", 1, 42, {"step": 3})
    await first.save_quiz("qz", 1, 42, {"index": 1})
    with pytest.raises(sqlite3.IntegrityError):
        await first.save_session("s2", 1, 42, {"step": 0})
    await first.close()
    second = SqliteStorage(path)
    await second.open()
    assert await second.active_sessions() == [("s1", 1, 42, {"step": 3})]
    assert await second.active_quizzes() == [("qz", 1, 42, {"index": 1})]
    await second.end_session("s1")
    await second.save_session("s2", 1, 42, {"step": 0})
    assert [s[0] for s in await second.active_sessions()] == ["s2"]
    await second.close()


async def test_corrupt_file_names_the_file_and_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "corobot.sqlite3"
    junk = b"this is not a database" * 100
    path.write_bytes(junk)
    store = SqliteStorage(path)
    with pytest.raises(StorageError) as err:
        await store.open()
    assert str(path) in str(err.value)
    assert path.read_bytes() == junk


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere; the read-only check needs a normal user")
async def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.raises(StorageError) as err:
        await SqliteStorage(folder / "db.sqlite3").open()
    assert "db.sqlite3" in str(err.value)


async def test_directory_in_place_of_the_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corobot.sqlite3"
    path.mkdir()
    with pytest.raises(StorageError) as err:
        await SqliteStorage(path).open()
    assert str(path) in str(err.value)


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StorageError, match="newer"):
        await SqliteStorage(path).open()
