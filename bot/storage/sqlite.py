"""SQLite storage through aiosqlite: one file in the data folder, WAL mode, versioned migrations.

Every write is one transaction, so a crash or a full disk never leaves half a change behind and nothing
committed before is lost.  A file that is not a database, is corrupt, or cannot be written is reported
at start-up as a `StorageError` that names the file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.errors import CorobotError
from bot.core.storage import AnswerRow, Period, Progress, RunRecordRow
from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)

_PERIOD_SECONDS = {"week": 7 * 86400, "month": 30 * 86400}


class StorageError(CorobotError):
    pass


class SqliteStorage:
    """Implements `bot.core.storage.Storage`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()  # one connection: transactions must not interleave

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageError("storage is not open")
        return self._db

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=NORMAL")
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._db.execute("PRAGMA busy_timeout=5000")
            async with self._db.execute("PRAGMA quick_check") as cur:
                row = await cur.fetchone()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {row[0] if row else 'no answer'}")
            await self._migrate()
        except (sqlite3.Error, OSError) as exc:
            await self.close()
            raise StorageError(
                f"cannot use the database {self.path}: {exc}. Check that the file is a corobot database and "
                "that the data folder is writable; the file was left untouched."
            ) from None

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()

    async def _migrate(self) -> None:
        async with self.db.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        version = int(row[0]) if row else 0
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(
                f"schema version {version} is newer than this corobot knows ({len(MIGRATIONS)}); upgrade corobot"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._transaction() as db:
                for statement in filter(str.strip, script.split(";")):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")
            log.info("database %s migrated to schema version %d", self.path, number)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            await self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                await self.db.rollback()
                raise
            await self.db.commit()

    async def _write(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        async with self._transaction() as db:
            await db.execute(sql, params)

    # -- runs and progress -------------------------------------------------------------------------------

    async def record_run(self, row: RunRecordRow) -> None:
        await self._write(
            "INSERT INTO runs (guild_id, user_id, lesson_id, example_id, status, elapsed, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (row.guild_id, row.user_id, row.lesson_id, row.example_id, row.status, row.elapsed, time.time()),
        )

    async def mark_lesson(self, guild_id: int, user_id: int, lesson_id: str, *, completed: bool) -> None:
        now = time.time()
        await self._write(
            "INSERT INTO lesson_progress (guild_id, user_id, lesson_id, started_at, completed_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, lesson_id) DO UPDATE SET "
            "completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)",
            (guild_id, user_id, lesson_id, now, now if completed else None),
        )

    async def progress(self, guild_id: int, user_id: int) -> Progress:
        result = Progress(guild_id, user_id)
        async with self.db.execute(
            "SELECT lesson_id, completed_at FROM lesson_progress WHERE guild_id=? AND user_id=? ORDER BY started_at",
            (guild_id, user_id),
        ) as cur:
            async for lesson_id, completed_at in cur:
                result.lessons_started.append(lesson_id)
                if completed_at is not None:
                    result.lessons_completed.append(lesson_id)
        async with self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(status = 'ok'), 0) FROM runs WHERE guild_id=? AND user_id=?",
            (guild_id, user_id),
        ) as cur:
            row = await cur.fetchone()
            if row:
                result.examples_run, result.runs_ok = int(row[0]), int(row[1])
        async with self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(correct), 0), COALESCE(SUM(points), 0) FROM answers "
            "WHERE guild_id=? AND user_id=? AND correct IS NOT NULL",
            (guild_id, user_id),
        ) as cur:
            row = await cur.fetchone()
            if row:
                result.answers, result.correct, result.points = int(row[0]), int(row[1]), int(row[2])
        return result

    async def leaderboard(self, guild_id: int, period: Period, limit: int = 10) -> list[tuple[int, int, int]]:
        since = time.time() - _PERIOD_SECONDS[period] if period in _PERIOD_SECONDS else 0.0
        async with self.db.execute(
            "SELECT user_id, SUM(points) AS p, SUM(correct) AS c FROM answers "
            "WHERE guild_id=? AND correct IS NOT NULL AND at >= ? GROUP BY user_id "
            "ORDER BY p DESC, c DESC, user_id LIMIT ?",
            (guild_id, since, limit),
        ) as cur:
            return [(int(u), int(p), int(c)) async for u, p, c in cur]

    # -- quizzes -----------------------------------------------------------------------------------------

    async def save_quiz(self, quiz_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> None:
        await self._write(
            "INSERT INTO quizzes (id, guild_id, channel_id, state, active, updated_at) VALUES (?, ?, ?, ?, 1, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (quiz_id, guild_id, channel_id, json.dumps(state), time.time()),
        )

    async def end_quiz(self, quiz_id: str) -> None:
        await self._write("UPDATE quizzes SET active = 0, updated_at = ? WHERE id = ?", (time.time(), quiz_id))

    async def active_quizzes(self) -> list[tuple[str, int, int, dict[str, Any]]]:
        async with self.db.execute("SELECT id, guild_id, channel_id, state FROM quizzes WHERE active = 1") as cur:
            return [(i, int(g), int(c), json.loads(s)) async for i, g, c, s in cur]

    async def record_answer(self, guild_id: int, row: AnswerRow) -> None:
        await self._write(
            "INSERT INTO answers (quiz_id, question_id, user_id, guild_id, answer, at, changes) "
            "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (quiz_id, question_id, user_id) DO UPDATE SET "
            "answer = excluded.answer, at = excluded.at, changes = answers.changes + 1",
            (row.quiz_id, row.question_id, row.user_id, guild_id, json.dumps(row.answer), row.at),
        )

    async def score_answers(self, quiz_id: str, question_id: str, scores: dict[int, tuple[bool, int]]) -> None:
        async with self._transaction() as db:
            await db.executemany(
                "UPDATE answers SET correct = ?, points = ? WHERE quiz_id = ? AND question_id = ? AND user_id = ?",
                [(int(ok), pts, quiz_id, question_id, uid) for uid, (ok, pts) in scores.items()],
            )

    async def answers(self, quiz_id: str, question_id: str) -> list[AnswerRow]:
        async with self.db.execute(
            "SELECT user_id, answer, at, correct, points FROM answers WHERE quiz_id = ? AND question_id = ? "
            "ORDER BY at",
            (quiz_id, question_id),
        ) as cur:
            return [
                AnswerRow(quiz_id, question_id, int(u), json.loads(a), float(t), None if c is None else bool(c), int(p))
                async for u, a, t, c, p in cur
            ]

    # -- study sessions ----------------------------------------------------------------------------------

    async def save_session(self, session_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> None:
        await self._write(
            "INSERT INTO sessions (id, guild_id, channel_id, state, active, updated_at) VALUES (?, ?, ?, ?, 1, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (session_id, guild_id, channel_id, json.dumps(state), time.time()),
        )

    async def end_session(self, session_id: str) -> None:
        await self._write("UPDATE sessions SET active = 0, updated_at = ? WHERE id = ?", (time.time(), session_id))

    async def active_sessions(self) -> list[tuple[str, int, int, dict[str, Any]]]:
        async with self.db.execute("SELECT id, guild_id, channel_id, state FROM sessions WHERE active = 1") as cur:
            return [(i, int(g), int(c), json.loads(s)) async for i, g, c, s in cur]
