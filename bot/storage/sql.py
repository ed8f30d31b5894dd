"""What both SQL adapters share: every query of the storage protocol, written once (`?` parameters, SQL that
SQLite and PostgreSQL both accept), over four primitives each adapter implements.

Every write is one transaction, so a crash, a full disk or a lost connection never leaves half a change
behind and nothing committed before is lost.  A failure raises a `StorageError` subclass (see
`bot.core.errors`) naming the operation, the database and the cause; the first failure of a kind is logged
once for the operator, and so is the first success after it.
"""

from __future__ import annotations

import json
import logging
import time
from abc import abstractmethod
from typing import Any

from bot.core.errors import StorageConflict, StorageError, StorageSchemaError
from bot.core.storage import AnswerRow, Period, Progress, RunRecordRow
from bot.storage.migrations import LATEST, TABLES, Dialect
from bot.storage.primitives import Row, Tx
from bot.storage.review import ReviewQueries

__all__ = ["Row", "SqlStorage"]
log = logging.getLogger(__name__)

_PERIOD_SECONDS = {"week": 7 * 86400, "month": 30 * 86400}


class SqlStorage(ReviewQueries):
    """Implements `bot.core.storage.Storage` on top of `_write`, `_write_many`, `_fetch`, `_atomic` (see
    `bot.storage.primitives`) and `migrate`; the spaced-review queries are in `bot.storage.review`."""

    dialect: Dialect

    def __init__(self, target: str) -> None:
        self.target = target  # the file, or the server URL without its password: for messages
        self._failing: str | None = None  # message_id of the fault being reported, until a success

    # -- what an adapter implements ----------------------------------------------------------------------

    @abstractmethod
    async def open(self, *, migrate: bool = True) -> None:
        """Connect, check the database and (unless `migrate` is False) bring its schema to `LATEST`; raises
        `StorageError`."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def schema_version(self) -> int: ...

    @abstractmethod
    async def migrate(self) -> tuple[int, int]:
        """Apply the migrations this database lacks; (version before, version after).  Idempotent."""

    # -- shared ------------------------------------------------------------------------------------------

    def _report(self, error: StorageError) -> StorageError:
        """Log a fault once per kind (a full disk under load must not flood the log); returns `error`.  A
        conflict is an answer, not a fault: the caller handles it."""
        if isinstance(error, StorageConflict):
            return error
        if error.message_id != self._failing:
            self._failing = error.message_id
            log.error("%s", error)
        return error

    def _recovered(self) -> None:
        if self._failing is not None:
            log.warning("the database %s works again (after %s)", self.target, self._failing)
            self._failing = None

    async def fetch(self, sql: str, *params: Any) -> list[Row]:
        """A read with `?` parameters (for `corobot db` and tests); raises `StorageError`."""
        return await self._fetch("read the database", sql, params)

    async def row_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for table in TABLES:
            [(count,)] = await self._fetch("count rows", f"SELECT COUNT(*) FROM {table}")
            counts[table] = int(count)
        return counts

    async def check_version(self) -> int:
        version = await self.schema_version()
        if version > LATEST:
            raise StorageSchemaError(
                "use the database", self.target, f"its schema version {version} is newer than this corobot "
                f"knows ({LATEST})", "Upgrade corobot",
            )  # fmt: skip
        return version

    # -- runs and progress -------------------------------------------------------------------------------

    async def record_run(self, row: RunRecordRow) -> None:
        now = time.time()

        async def write(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO runs (guild_id, user_id, lesson_id, example_id, status, elapsed, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (row.guild_id, row.user_id, row.lesson_id, row.example_id, row.status, row.elapsed, now),
            )
            await self._note_activity(tx, row.user_id, row.guild_id, now)

        await self._atomic("record a run", write)

    async def mark_lesson(self, guild_id: int, user_id: int, lesson_id: str, *, completed: bool) -> None:
        now = time.time()
        await self._write(
            "save lesson progress",
            "INSERT INTO lesson_progress (guild_id, user_id, lesson_id, started_at, completed_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id, lesson_id) DO UPDATE SET "
            "completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)",
            (guild_id, user_id, lesson_id, now, now if completed else None),
        )

    async def progress(self, guild_id: int, user_id: int) -> Progress:
        what = "read progress"
        result = Progress(guild_id, user_id)
        for lesson_id, completed_at in await self._fetch(
            what,
            "SELECT lesson_id, completed_at FROM lesson_progress WHERE guild_id = ? AND user_id = ? "
            "ORDER BY started_at, lesson_id",
            (guild_id, user_id),
        ):
            result.lessons_started.append(lesson_id)
            if completed_at is not None:
                result.lessons_completed.append(lesson_id)
        [(runs, ok)] = await self._fetch(
            what,
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END), 0) FROM runs "
            "WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        result.examples_run, result.runs_ok = int(runs), int(ok)
        [(answers, correct, points)] = await self._fetch(
            what,
            "SELECT COUNT(*), COALESCE(SUM(correct), 0), COALESCE(SUM(points), 0) FROM answers "
            "WHERE guild_id = ? AND user_id = ? AND correct IS NOT NULL",
            (guild_id, user_id),
        )
        result.answers, result.correct, result.points = int(answers), int(correct), int(points)
        return result

    async def leaderboard(self, guild_id: int, period: Period, limit: int = 10) -> list[tuple[int, int, int]]:
        since = time.time() - _PERIOD_SECONDS[period] if period in _PERIOD_SECONDS else 0.0
        rows = await self._fetch(
            "read the leaderboard",
            "SELECT user_id, SUM(points) AS p, SUM(correct) AS c FROM answers "
            "WHERE guild_id = ? AND correct IS NOT NULL AND at >= ? GROUP BY user_id "
            "ORDER BY p DESC, c DESC, user_id LIMIT ?",
            (guild_id, since, limit),
        )
        return [(int(u), int(p), int(c)) for u, p, c in rows]

    # -- quizzes and study sessions: the same columns in two tables -------------------------------------

    async def _save_state(
        self, what: str, table: str, key: str, guild_id: int, channel_id: int, state: dict[str, Any]
    ) -> None:
        await self._write(
            f"save {what}",
            f"INSERT INTO {table} (id, guild_id, channel_id, state, active, updated_at) VALUES (?, ?, ?, ?, 1, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
            (key, guild_id, channel_id, json.dumps(state), time.time()),
        )

    async def _end(self, what: str, table: str, key: str) -> None:
        sql = f"UPDATE {table} SET active = 0, updated_at = ? WHERE id = ?"
        await self._write(f"end {what}", sql, (time.time(), key))

    async def _active(self, what: str, table: str) -> list[tuple[str, int, int, dict[str, Any]]]:
        sql = f"SELECT id, guild_id, channel_id, state FROM {table} WHERE active = 1 ORDER BY id"
        rows = await self._fetch(f"read the active {what}", sql)
        return [(i, int(g), int(c), json.loads(s)) for i, g, c, s in rows]

    async def save_quiz(self, quiz_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> None:
        await self._save_state("a quiz", "quizzes", quiz_id, guild_id, channel_id, state)

    async def end_quiz(self, quiz_id: str) -> None:
        await self._end("a quiz", "quizzes", quiz_id)

    async def active_quizzes(self) -> list[tuple[str, int, int, dict[str, Any]]]:
        return await self._active("quizzes", "quizzes")

    async def save_session(self, session_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> None:
        await self._save_state("a study session", "sessions", session_id, guild_id, channel_id, state)

    async def end_session(self, session_id: str) -> None:
        await self._end("a study session", "sessions", session_id)

    async def active_sessions(self) -> list[tuple[str, int, int, dict[str, Any]]]:
        return await self._active("study sessions", "sessions")

    # -- answers -----------------------------------------------------------------------------------------

    async def record_answer(self, guild_id: int, row: AnswerRow) -> None:
        async def write(tx: Tx) -> None:
            await tx.execute(
                "INSERT INTO answers (quiz_id, question_id, user_id, guild_id, answer, at, changes) "
                "VALUES (?, ?, ?, ?, ?, ?, 0) ON CONFLICT (quiz_id, question_id, user_id) DO UPDATE SET "
                "answer = excluded.answer, at = excluded.at, changes = answers.changes + 1",
                (row.quiz_id, row.question_id, row.user_id, guild_id, json.dumps(row.answer), row.at),
            )
            await self._note_activity(tx, row.user_id, guild_id, row.at)

        await self._atomic("record an answer", write)

    async def score_answers(self, quiz_id: str, question_id: str, scores: dict[int, tuple[bool, int]]) -> None:
        await self._write_many(
            "score answers",
            "UPDATE answers SET correct = ?, points = ? WHERE quiz_id = ? AND question_id = ? AND user_id = ?",
            [(int(ok), pts, quiz_id, question_id, uid) for uid, (ok, pts) in scores.items()],
        )

    async def answers(self, quiz_id: str, question_id: str) -> list[AnswerRow]:
        rows = await self._fetch(
            "read answers",
            "SELECT user_id, answer, at, correct, points FROM answers WHERE quiz_id = ? AND question_id = ? "
            "ORDER BY at, user_id",
            (quiz_id, question_id),
        )
        return [
            AnswerRow(quiz_id, question_id, int(u), json.loads(a), float(t), None if c is None else bool(c), int(p))
            for u, a, t, c, p in rows
        ]
