"""Learner code's queries (issue 13), written once for SQLite and PostgreSQL (`?` parameters) over the adapters'
primitives (`bot.storage.primitives`): the last version of a learner's code per example or exercise, the
moderation log of learner runs (a hash of the code, never the code), the admins' switch per server and channel,
exercise points recorded once as a scored answer, and the uses the storage-backed quota counts.
"""

from __future__ import annotations

import json
import time

from bot.core.storage import LearnerRunRow
from bot.storage.primitives import SqlPrimitives, Tx


class LearnerQueries(SqlPrimitives):
    async def save_learner_code(self, user_id: int, kind: str, lesson_id: str, item_id: str, code: str) -> None:
        await self._write(
            "save your code",
            "INSERT INTO learner_code (user_id, kind, lesson_id, item_id, code, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id, kind, lesson_id, item_id) DO UPDATE SET code = excluded.code, "
            "updated_at = excluded.updated_at",
            (user_id, kind, lesson_id, item_id, code, time.time()),
        )

    async def learner_code(self, user_id: int, kind: str, lesson_id: str, item_id: str) -> str | None:
        rows = await self._fetch(
            "read your code",
            "SELECT code FROM learner_code WHERE user_id = ? AND kind = ? AND lesson_id = ? AND item_id = ?",
            (user_id, kind, lesson_id, item_id),
        )
        return str(rows[0][0]) if rows else None

    async def log_learner_run(self, row: LearnerRunRow) -> None:
        await self._write(
            "log a learner run",
            "INSERT INTO learner_runs (id, guild_id, channel_id, user_id, kind, source, code_sha256, code_chars, "
            "stdin_chars, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                *(row.id, row.guild_id, row.channel_id, row.user_id, row.kind, row.source),
                *(row.code_sha256, row.code_chars, row.stdin_chars, row.started_at),
            ),
        )

    async def finish_learner_run(self, run_id: str, status: str, elapsed: float, passed: bool | None) -> None:
        await self._write(
            "log a learner run",
            "UPDATE learner_runs SET status = ?, elapsed = ?, passed = ? WHERE id = ?",
            (status, elapsed, None if passed is None else int(passed), run_id),
        )

    async def learner_tries(self, guild_id: int, user_id: int, kind: str, source: str) -> tuple[int, int]:
        [(tries, passed)] = await self._fetch(
            "read your tries",
            "SELECT COUNT(*), COALESCE(SUM(passed), 0) FROM learner_runs WHERE guild_id = ? AND user_id = ? "
            "AND kind = ? AND source = ? AND passed IS NOT NULL",
            (guild_id, user_id, kind, source),
        )
        return int(tries), int(passed)

    async def set_learner_policy(self, guild_id: int, channel_id: int, enabled: bool) -> None:
        await self._write(
            "save the learner-code setting",
            "INSERT INTO learner_policy (guild_id, channel_id, enabled, set_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id) DO UPDATE SET enabled = excluded.enabled, set_at = excluded.set_at",
            (guild_id, channel_id, int(enabled), time.time()),
        )

    async def learner_policy(self, guild_id: int) -> dict[int, bool]:
        rows = await self._fetch(
            "read the learner-code setting",
            "SELECT channel_id, enabled FROM learner_policy WHERE guild_id = ? ORDER BY channel_id",
            (guild_id,),
        )
        return {int(channel): bool(enabled) for channel, enabled in rows}

    async def award_exercise(
        self, guild_id: int, user_id: int, lesson_id: str, exercise_id: str, points: int, code_sha256: str
    ) -> bool:
        async def award(tx: Tx) -> int:
            return await tx.execute(
                "INSERT INTO answers (quiz_id, question_id, user_id, guild_id, answer, at, changes, correct, points) "
                "VALUES (?, ?, ?, ?, ?, ?, 0, 1, ?) ON CONFLICT (quiz_id, question_id, user_id) DO NOTHING",
                (
                    *(f"exercise:{guild_id}", f"{lesson_id}/{exercise_id}", user_id, guild_id),
                    *(json.dumps({"sha256": code_sha256}), time.time(), points),
                ),
            )

        return await self._atomic("record a solved exercise", award) > 0

    async def quota_uses(self, guild_id: int, user_id: int, since: float) -> tuple[list[float], list[float]]:
        what, query = "read the learner-run quota", "SELECT at FROM quota_uses WHERE {} = ? AND at >= ? ORDER BY at"
        mine = await self._fetch(what, query.format("user_id"), (user_id, since))
        server = await self._fetch(what, query.format("guild_id"), (guild_id, since))
        return [float(at) for (at,) in mine], [float(at) for (at,) in server]

    async def add_quota_use(self, guild_id: int, user_id: int, at: float) -> None:
        sql = "INSERT INTO quota_uses (user_id, guild_id, at) VALUES (?, ?, ?)"
        await self._write("count a learner run", sql, (user_id, guild_id, at))

    async def forget_quota_uses(self, before: float) -> None:
        await self._write("forget old learner-run counts", "DELETE FROM quota_uses WHERE at < ?", (before,))
