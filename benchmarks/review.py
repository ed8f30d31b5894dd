"""Benchmark: spaced review at scale on SQLite — 10,000 learners x 200 cards (2,000,000 cards).

Builds a database through corobot's migrations, fills it with bulk inserts (200 questions in 20 lessons; per
learner 200 cards in FSRS's review state with due dates spread from a week ago to two months ahead, one
answer-log entry per card, a time zone, a few days of activity; 10 % of learners asked for reminders), then
measures, through the same storage and service code the bot uses:

- the due-card query (`storage.due_cards`, 10 cards) for random learners;
- opening `/review` (`Learning.due`: the query plus matching each card to its lesson);
- answering a review card (`Learning.answer`: schedule with fsrs, save card + log + activity in one
  transaction, then re-check the learner's path);
- `/path` for a learner (`Learning.path`), and one pass of the reminder query (`Learning.reminders_due`);
- the database's size on disk.

Run from the repository root: `python -m benchmarks.review [--learners 10000] [--cards 200] [--samples 1000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import yaml

from bot.core.catalog import Catalog
from bot.core.lessons import Lesson
from bot.core.review.cards import content_hash
from bot.core.review.service import Learning, LearningSettings
from bot.storage.review import SLOT_SECONDS
from bot.storage.sqlite import SqliteStorage

GUILD = 1
FIRST_USER = 10_000_000
NOW = 1_767_258_000.0  # 2026-01-01 09:00 UTC
DAY = 86400.0
PER_LESSON = 10
CODE = "import asyncio\n\nasync def main():\n    await asyncio.sleep(0)\n\nasyncio.run(main())\n"
ZONES = ["UTC", "Asia/Shanghai", "Europe/Paris", "America/New_York", "Asia/Kolkata"]


def course(questions: int, root: Path) -> Catalog:
    """`questions` questions in lessons of ten, as YAML files in `root`, loaded by the real catalog."""
    root.mkdir()
    for n in range(max(1, questions // PER_LESSON)):
        question = {"type": "choice", "explanation": "because", "choices": ["a", "b", "c"], "answer": "a"}
        quiz = [{**question, "id": f"q{i}", "prompt": f"Question {n}.{i}?"} for i in range(PER_LESSON)]
        data = {"id": f"lesson-{n:02d}", "title": f"Lesson {n}", "tags": [f"topic-{n % 5}"]}
        data["prerequisites"] = [f"lesson-{n - 1:02d}"] if n else []
        lesson = {**data, "examples": [{"id": "one", "code": CODE}], "quiz": quiz}
        (root / f"lesson-{n:02d}.yaml").write_text(yaml.safe_dump(lesson), encoding="utf-8")
    catalog = Catalog(root)
    report = catalog.load()
    assert report.ok, report.errors
    return catalog


def fill(path: Path, lessons: list[Lesson], learners: int, cards: int) -> None:
    """Bulk-insert everything in one transaction per table on a plain sqlite3 connection."""
    rng = random.Random(16)
    questions = [(lesson, q) for lesson in lessons for q in lesson.quiz][:cards]
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    numbered = list(enumerate(questions, start=1))
    with db:
        db.executemany(
            "INSERT INTO review_questions (id, lesson_id, question_id, content_hash, retired, changed_at) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            [(i, lesson.id, q.id, content_hash(lesson, q), NOW - 90 * DAY) for i, (lesson, q) in numbered],
        )

    def card_rows() -> Iterator[tuple[object, ...]]:
        for u in range(learners):
            for ref in range(1, len(questions) + 1):
                stability, difficulty = rng.uniform(1.0, 30.0), rng.uniform(1.0, 10.0)
                due = NOW + rng.uniform(-7 * DAY, 60 * DAY)
                counts = rng.randint(1, 8), rng.randint(0, 2), rng.random() < 0.8
                yield (GUILD, FIRST_USER + u, ref, 2, None, stability, difficulty, due, due - stability * DAY, *counts)

    def log_rows() -> Iterator[tuple[object, ...]]:
        for u in range(learners):
            for ref in range(1, len(questions) + 1):
                right = rng.random() < 0.8
                yield GUILD, FIRST_USER + u, ref, "quiz", right, 3 if right else 1, 5.0, NOW - rng.uniform(0, 60 * DAY)

    with db:
        db.executemany(
            "INSERT INTO review_cards (guild_id, user_id, question, state, step, stability, difficulty, due, "
            "last_review, reps, lapses, last_correct) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            card_rows(),
        )
    with db:
        db.executemany(
            "INSERT INTO review_log (guild_id, user_id, question, source, correct, rating, seconds, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            log_rows(),
        )
    with db:
        users = range(FIRST_USER, FIRST_USER + learners)
        db.executemany("INSERT INTO learners VALUES (?, ?, ?)", ((u, rng.choice(ZONES), NOW) for u in users))
        db.executemany(
            "INSERT INTO activity VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            ((u, GUILD, int((NOW - d * DAY) // SLOT_SECONDS)) for u in users for d in range(rng.randint(1, 5))),
        )
        db.executemany(
            "INSERT INTO reminders (guild_id, user_id, enabled, changed_at) VALUES (?, ?, 1, ?)",
            ((GUILD, u, NOW) for u in users if u % 10 == 0),
        )
        db.executemany(
            "INSERT INTO runs (guild_id, user_id, lesson_id, example_id, status, elapsed, at) "
            "VALUES (?, ?, ?, 'one', 'ok', 0.1, ?)",
            ((GUILD, u, lesson.id, NOW - DAY) for u in users for lesson in lessons[:3]),
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ANALYZE")
    db.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


async def timed(samples: int, action: Callable[[int], Awaitable[object]], learners: int) -> tuple[float, float]:
    """p50 and p99 in milliseconds of `action(user)` for random learners, one after another."""
    rng = random.Random(samples)
    took = []
    for _ in range(samples):
        user = FIRST_USER + rng.randrange(learners)
        start = time.perf_counter()
        await action(user)
        took.append(time.perf_counter() - start)
    return statistics.median(took) * 1000, percentile(took, 0.99) * 1000


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--samples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        catalog = course(args.cards, Path(folder) / "lessons")
        lessons = catalog.lessons()
        path = Path(folder) / "review.sqlite3"
        store = SqliteStorage(path)
        await store.open()
        await store.close()
        start = time.perf_counter()
        fill(path, lessons, args.learners, args.cards)
        built = time.perf_counter() - start
        total_cards = args.learners * args.cards
        what = f"{args.learners} learners x {args.cards} cards = {total_cards:,} cards (+ {total_cards:,} log entries)"
        bytes_per_card = f"{size(path) / total_cards:.0f} bytes per card with its log entry"
        print(f"{what} built in {built:.1f} s; database {size(path) / 2**20:.0f} MiB ({bytes_per_card})")

        store = SqliteStorage(path)
        await store.open()
        clock = [NOW]
        learning = Learning(store, catalog, LearningSettings(), clock=lambda: clock[0])
        try:
            due_query = await timed(args.samples, lambda u: store.due_cards(GUILD, u, clock[0], 10), args.learners)
            review = await timed(args.samples, lambda u: learning.due(GUILD, u), args.learners)

            async def answer(user: int) -> None:
                [item] = await learning.due(GUILD, user, 1)
                await learning.answer(GUILD, user, item.lesson.id, item.question.id, ["a"], 5.0)

            answered = await timed(args.samples, answer, args.learners)
            path_view = await timed(max(1, args.samples // 4), lambda u: learning.path(GUILD, u), args.learners)
            clock[0] = NOW + 10 * 3600  # 19:00 UTC: past the reminder hour in several zones
            start = time.perf_counter()
            reminders = await learning.reminders_due(limit=args.learners)
            reminder_ms = (time.perf_counter() - start) * 1000
        finally:
            await store.close()
        for name, (p50, p99) in (
            ("due-card query (10 cards)", due_query),
            ("open /review (query + lessons)", review),
            ("answer a review card", answered),
            ("/path", path_view),
        ):
            print(f"  {name:<32} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
        opted = f"{args.learners // 10} opted-in learners ({len(reminders)} to remind)"
        print(f"  {'reminder pass':<32} {reminder_ms:7.1f} ms for {opted}")
        print(f"  database after the run: {size(path) / 2**20:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
