"""Spaced review, the path, streaks, reminders, recaps and /forget-me: their queries, written once for SQLite
and PostgreSQL (`?` parameters) over the adapters' primitives (`bot.storage.primitives`).

Questions are registered once in `review_questions` (lesson, question, content hash); cards point at them by
id, so a changed question is one update of its hash plus one reset of its cards, and a removed one is retired
by one flag.  Activity is kept per quarter hour (`slot`: unix time // 900): every time zone's offset is a
multiple of 15 minutes, so a learner's local days — and streak — can be told later in whatever zone they set.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from bot.core.review.privacy import scrub_member
from bot.core.storage import (
    NEW_CARD_STATE,
    NEW_CARD_STEP,
    CardResult,
    CardRow,
    LearnerCard,
    MissedQuestion,
    QuestionRef,
    RecapData,
    ReminderCandidate,
)
from bot.storage.migrations import STATE_TABLES, USER_TABLES
from bot.storage.primitives import Row, SqlPrimitives, Tx

SLOT_SECONDS = 900  # a quarter hour
MIN_SNOWFLAKE = 1 << 22  # every Discord id is larger; smaller ids (the console's 0) never appear in states
T = TypeVar("T", int, float, bool)
REMINDER_GAP = 12 * 3600  # candidates were not reminded in this long (the service applies the daily rule)

CARD_COLUMNS = (
    "c.guild_id, c.user_id, c.question, c.state, c.step, c.stability, c.difficulty, c.due, c.last_review, "
    "c.reps, c.lapses, c.last_correct"
)
RESET_CARDS = (
    f"UPDATE review_cards SET state = {NEW_CARD_STATE}, step = {NEW_CARD_STEP}, stability = NULL, "
    "difficulty = NULL, due = ?, last_review = NULL, reps = 0, lapses = 0, last_correct = NULL WHERE question = ?"
)


UPSERT_CARD = (
    "INSERT INTO review_cards (guild_id, user_id, question, state, step, stability, difficulty, due, last_review, "
    "reps, lapses, last_correct) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (guild_id, user_id, question) DO UPDATE SET state = excluded.state, step = excluded.step, "
    "stability = excluded.stability, difficulty = excluded.difficulty, due = excluded.due, "
    "last_review = excluded.last_review, reps = excluded.reps, lapses = excluded.lapses, "
    "last_correct = excluded.last_correct"
)


def card_values(c: CardRow) -> tuple[Any, ...]:
    correct = None if c.last_correct is None else int(c.last_correct)
    return (c.guild_id, c.user_id, c.question, c.state, c.step, c.stability, c.difficulty, c.due, c.last_review,
            c.reps, c.lapses, correct)


def activity_slot(at: float) -> int:
    return int(at // SLOT_SECONDS)


def _maybe(kind: type[T], value: Any) -> T | None:
    return None if value is None else kind(value)


def _card(row: Row) -> CardRow:
    g, u, q, state, step, stability, difficulty, due, last, reps, lapses, correct = row[:12]
    numbers = _maybe(float, stability), _maybe(float, difficulty), float(due), _maybe(float, last)
    return CardRow(
        int(g), int(u), int(q), int(state), _maybe(int, step), *numbers, int(reps), int(lapses), _maybe(bool, correct)
    )


def _learner_card(row: Row) -> LearnerCard:
    return LearnerCard(_card(row), str(row[12]), str(row[13]))


class ReviewQueries(SqlPrimitives):
    """The review part of `bot.core.storage.Storage` (mixed into `bot.storage.sql.SqlStorage`)."""

    async def _note_activity(self, tx: Tx, user_id: int, guild_id: int, at: float) -> None:
        await tx.execute(
            "INSERT INTO activity (user_id, guild_id, slot) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, guild_id, activity_slot(at)),
        )

    # -- questions and cards -----------------------------------------------------------------------------

    async def review_question(self, lesson_id: str, question_id: str, content_hash: str, now: float) -> QuestionRef:
        async def register(tx: Tx) -> QuestionRef:
            await tx.execute(
                "INSERT INTO review_questions (lesson_id, question_id, content_hash, retired, changed_at) "
                "VALUES (?, ?, ?, 0, ?) ON CONFLICT (lesson_id, question_id) DO NOTHING",
                (lesson_id, question_id, content_hash, now),
            )
            [(ref, known, retired)] = await tx.fetch(
                "SELECT id, content_hash, retired FROM review_questions WHERE lesson_id = ? AND question_id = ?",
                (lesson_id, question_id),
            )
            if known != content_hash or retired:
                await self._renew(tx, int(ref), content_hash, reset=known != content_hash, now=now)
            return QuestionRef(int(ref), lesson_id, question_id, content_hash)

        return await self._atomic("register a review question", register)

    async def _renew(self, tx: Tx, ref: int, content_hash: str, *, reset: bool, now: float) -> None:
        await tx.execute(
            "UPDATE review_questions SET content_hash = ?, retired = 0, changed_at = ? WHERE id = ?",
            (content_hash, now, ref),
        )
        if reset:
            await tx.execute(RESET_CARDS, (now, ref))

    async def reconcile_questions(self, current: Mapping[tuple[str, str], str], now: float) -> tuple[int, int]:
        async def reconcile(tx: Tx) -> tuple[int, int]:
            reset = retired = 0
            rows = await tx.fetch("SELECT id, lesson_id, question_id, content_hash, retired FROM review_questions")
            for ref, lesson_id, question_id, known, was_retired in rows:
                content_hash = current.get((lesson_id, question_id))
                if content_hash is None:
                    if not was_retired:
                        await tx.execute(
                            "UPDATE review_questions SET retired = 1, changed_at = ? WHERE id = ?", (now, ref)
                        )
                        retired += 1
                elif content_hash != known or was_retired:
                    await self._renew(tx, int(ref), content_hash, reset=content_hash != known, now=now)
                    reset += content_hash != known
            return reset, retired

        return await self._atomic("bring review questions up to date", reconcile)

    async def question_cards(self, guild_id: int, question: int, user_ids: Sequence[int]) -> dict[int, CardRow]:
        if not user_ids:
            return {}
        marks = ", ".join("?" * len(user_ids))
        rows = await self._fetch(
            "read review cards",
            f"SELECT {CARD_COLUMNS} FROM review_cards c WHERE c.guild_id = ? AND c.question = ? "
            f"AND c.user_id IN ({marks})",
            (guild_id, question, *user_ids),
        )
        return {card.user_id: card for card in map(_card, rows)}

    async def record_reviews(self, results: Sequence[CardResult]) -> None:
        if not results:
            return

        async def write(tx: Tx) -> None:
            await tx.executemany(UPSERT_CARD, [card_values(r.card) for r in results])
            await tx.executemany(
                "INSERT INTO review_log (guild_id, user_id, question, source, correct, rating, seconds, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (g.guild_id, g.user_id, g.question, g.source, int(g.correct), g.rating, g.seconds, g.at)
                    for g in (r.log for r in results)
                ],
            )
            for user_id, guild_id, at in sorted({(r.log.user_id, r.log.guild_id, r.log.at) for r in results}):
                await self._note_activity(tx, user_id, guild_id, at)

        await self._atomic("save review cards", write)

    async def due_cards(self, guild_id: int, user_id: int, now: float, limit: int) -> list[LearnerCard]:
        rows = await self._fetch(
            "read due review cards",
            f"SELECT {CARD_COLUMNS}, q.lesson_id, q.question_id FROM review_cards c "
            "JOIN review_questions q ON q.id = c.question "
            "WHERE c.guild_id = ? AND c.user_id = ? AND c.due <= ? AND q.retired = 0 ORDER BY c.due, c.question "
            "LIMIT ?",
            (guild_id, user_id, now, limit),
        )
        return [_learner_card(row) for row in rows]

    async def review_load(self, guild_id: int, user_id: int, now: float) -> tuple[int, float | None]:
        [(due, upcoming)] = await self._fetch(
            "count due review cards",
            "SELECT COALESCE(SUM(CASE WHEN c.due <= ? THEN 1 ELSE 0 END), 0), MIN(CASE WHEN c.due > ? THEN c.due END) "
            "FROM review_cards c JOIN review_questions q ON q.id = c.question "
            "WHERE c.guild_id = ? AND c.user_id = ? AND q.retired = 0",
            (now, now, guild_id, user_id),
        )
        return int(due), None if upcoming is None else float(upcoming)

    async def learner_cards(self, guild_id: int, user_id: int, lesson_id: str | None = None) -> list[LearnerCard]:
        one = "" if lesson_id is None else " AND q.lesson_id = ?"
        rows = await self._fetch(
            "read review cards",
            f"SELECT {CARD_COLUMNS}, q.lesson_id, q.question_id FROM review_cards c "
            "JOIN review_questions q ON q.id = c.question WHERE c.guild_id = ? AND c.user_id = ? AND q.retired = 0"
            f"{one} ORDER BY q.lesson_id, q.question_id",
            (guild_id, user_id) if lesson_id is None else (guild_id, user_id, lesson_id),
        )
        return [_learner_card(row) for row in rows]

    # -- the path ----------------------------------------------------------------------------------------

    async def examples_run(self, guild_id: int, user_id: int) -> dict[str, set[str]]:
        rows = await self._fetch(
            "read the examples run",
            "SELECT DISTINCT lesson_id, example_id FROM runs WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        found: dict[str, set[str]] = {}
        for lesson_id, example_id in rows:
            found.setdefault(str(lesson_id), set()).add(str(example_id))
        return found

    async def lessons_done(self, guild_id: int, user_id: int) -> dict[str, float]:
        rows = await self._fetch(
            "read the lessons done",
            "SELECT lesson_id, done_at FROM lessons_done WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return {str(lesson_id): float(at) for lesson_id, at in rows}

    async def mark_done(self, guild_id: int, user_id: int, lesson_id: str, at: float) -> bool:
        async def mark(tx: Tx) -> bool:
            added = await tx.execute(
                "INSERT INTO lessons_done (guild_id, user_id, lesson_id, done_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (guild_id, user_id, lesson_id, at),
            )
            return added == 1

        return await self._atomic("record a lesson done", mark)

    # -- streaks and time zones --------------------------------------------------------------------------

    async def activity(self, user_id: int, since: float) -> list[float]:
        rows = await self._fetch(
            "read activity",
            "SELECT DISTINCT slot FROM activity WHERE user_id = ? AND slot >= ? ORDER BY slot",
            (user_id, activity_slot(since)),
        )
        return [float(slot) * SLOT_SECONDS for (slot,) in rows]

    async def timezone(self, user_id: int) -> str | None:
        rows = await self._fetch("read a time zone", "SELECT timezone FROM learners WHERE user_id = ?", (user_id,))
        return str(rows[0][0]) if rows else None

    async def set_timezone(self, user_id: int, timezone: str, now: float) -> None:
        await self._write(
            "save a time zone",
            "INSERT INTO learners (user_id, timezone, updated_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE "
            "SET timezone = excluded.timezone, updated_at = excluded.updated_at",
            (user_id, timezone, now),
        )

    # -- reminders ---------------------------------------------------------------------------------------

    async def reminders_enabled(self, guild_id: int, user_id: int) -> bool:
        rows = await self._fetch(
            "read reminder settings",
            "SELECT enabled FROM reminders WHERE guild_id = ? AND user_id = ?",
            (guild_id, user_id),
        )
        return bool(rows and rows[0][0])

    async def set_reminders(self, guild_id: int, user_id: int, enabled: bool, now: float) -> None:
        await self._write(
            "save reminder settings",
            "INSERT INTO reminders (guild_id, user_id, enabled, changed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) DO UPDATE SET enabled = excluded.enabled, "
            "changed_at = excluded.changed_at",
            (guild_id, user_id, int(enabled), now),
        )

    async def stop_reminders(self, user_id: int, now: float) -> int:
        async def stop(tx: Tx) -> int:
            return await tx.execute(
                "UPDATE reminders SET enabled = 0, changed_at = ? WHERE user_id = ? AND enabled = 1", (now, user_id)
            )

        return await self._atomic("stop reminders", stop)

    async def drop_reminders(self, guild_id: int, user_id: int) -> None:
        await self._write(
            "drop reminders", "DELETE FROM reminders WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )

    async def reminder_candidates(self, now: float, limit: int) -> list[ReminderCandidate]:
        rows = await self._fetch(
            "find reminders to send",
            "SELECT r.guild_id, r.user_id, l.timezone, r.last_sent, COUNT(*) FROM reminders r "
            "JOIN review_cards c ON c.guild_id = r.guild_id AND c.user_id = r.user_id AND c.due <= ? "
            "JOIN review_questions q ON q.id = c.question AND q.retired = 0 "
            "LEFT JOIN learners l ON l.user_id = r.user_id "
            "WHERE r.enabled = 1 AND (r.last_sent IS NULL OR r.last_sent <= ?) "
            "GROUP BY r.guild_id, r.user_id, l.timezone, r.last_sent "
            "ORDER BY COALESCE(r.last_sent, 0), r.user_id, r.guild_id LIMIT ?",
            (now, now - REMINDER_GAP, limit),
        )
        return [
            ReminderCandidate(int(g), int(u), None if tz is None else str(tz), None if s is None else float(s), int(n))
            for g, u, tz, s, n in rows
        ]

    async def reminder_sent(self, guild_id: int, user_id: int, at: float) -> None:
        await self._write(
            "note a reminder sent",
            "UPDATE reminders SET last_sent = ? WHERE guild_id = ? AND user_id = ?",
            (at, guild_id, user_id),
        )

    # -- weekly recaps -----------------------------------------------------------------------------------

    async def set_recap_channel(self, guild_id: int, channel_id: int | None) -> None:
        if channel_id is None:
            await self._write("stop recaps", "DELETE FROM recap_channels WHERE guild_id = ?", (guild_id,))
            return
        await self._write(
            "choose the recap channel",
            "INSERT INTO recap_channels (guild_id, channel_id) VALUES (?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id",
            (guild_id, channel_id),
        )

    async def recap_channels(self) -> list[tuple[int, int, float | None]]:
        rows = await self._fetch(
            "read recap channels", "SELECT guild_id, channel_id, last_posted FROM recap_channels ORDER BY guild_id"
        )
        return [(int(g), int(c), None if p is None else float(p)) for g, c, p in rows]

    async def recap_posted(self, guild_id: int, at: float) -> None:
        await self._write(
            "note a recap posted", "UPDATE recap_channels SET last_posted = ? WHERE guild_id = ?", (at, guild_id)
        )

    async def recap(self, guild_id: int, since: float, until: float, limit: int = 5) -> RecapData:
        what, window = "read the weekly recap", (guild_id, since, until)
        top = await self._fetch(
            what,
            "SELECT user_id, SUM(correct), COUNT(*) FROM review_log WHERE guild_id = ? AND at >= ? AND at < ? "
            "GROUP BY user_id ORDER BY 2 DESC, 3 DESC, 1 LIMIT ?",
            (*window, limit),
        )
        [(learners,)] = await self._fetch(
            what,
            "SELECT COUNT(DISTINCT user_id) FROM review_log WHERE guild_id = ? AND at >= ? AND at < ?",
            window,
        )
        done = await self._fetch(
            what,
            "SELECT lesson_id, COUNT(*) FROM lessons_done WHERE guild_id = ? AND done_at >= ? AND done_at < ? "
            "GROUP BY lesson_id ORDER BY 2 DESC, 1",
            window,
        )
        missed = await self._fetch(
            what,
            "SELECT q.lesson_id, q.question_id, COUNT(DISTINCT CASE WHEN l.correct = 0 THEN l.user_id END), "
            "COUNT(DISTINCT l.user_id) FROM review_log l JOIN review_questions q ON q.id = l.question "
            "WHERE l.guild_id = ? AND l.at >= ? AND l.at < ? AND q.retired = 0 GROUP BY q.lesson_id, q.question_id "
            "HAVING COUNT(DISTINCT CASE WHEN l.correct = 0 THEN l.user_id END) > 0 ORDER BY 3 DESC, 4 DESC, 1, 2 "
            "LIMIT 1",
            window,
        )
        return RecapData(
            top=[(int(u), int(r), int(n)) for u, r, n in top],
            lessons_done=[(str(lesson), int(n)) for lesson, n in done],
            learners=int(learners),
            most_missed=MissedQuestion(str(missed[0][0]), str(missed[0][1]), int(missed[0][2]), int(missed[0][3]))
            if missed
            else None,
        )

    async def prune_review_log(self, before: float) -> int:
        async def prune(tx: Tx) -> int:
            return await tx.execute("DELETE FROM review_log WHERE at < ?", (before,))

        return await self._atomic("prune the review log", prune)

    # -- /forget-me --------------------------------------------------------------------------------------

    async def forget_user(self, user_id: int) -> dict[str, int]:
        async def forget(tx: Tx) -> dict[str, int]:
            removed: dict[str, int] = {}
            for table in USER_TABLES:
                removed[table] = await tx.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
            if user_id >= MIN_SNOWFLAKE:
                for table in STATE_TABLES:
                    removed[table] = await self._scrub(tx, table, user_id)
            return removed

        return await self._atomic("forget a learner", forget)

    async def _scrub(self, tx: Tx, table: str, user_id: int) -> int:
        """Ended quizzes and sessions that name the member are deleted (nothing reads them again); active ones
        keep going without the member's answers, scores and membership."""
        changed = 0
        rows = await tx.fetch(f"SELECT id, state, active FROM {table} WHERE state LIKE ?", (f"%{user_id}%",))
        for key, text, active in rows:
            state: Any = json.loads(text)
            scrubbed = scrub_member(state, user_id)
            if scrubbed == state:
                continue
            changed += 1
            if active:
                await tx.execute(f"UPDATE {table} SET state = ? WHERE id = ?", (json.dumps(scrubbed), key))
            else:
                await tx.execute(f"DELETE FROM {table} WHERE id = ?", (key,))
        return changed
