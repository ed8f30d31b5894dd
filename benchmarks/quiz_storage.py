"""Benchmark: many members answering one quiz question at once, through the quiz core and real SQLite.

Prints: 200 answers arriving within one second — answers recorded, latency from "click" to the answer being
committed (median, p99), the event loop's maximum lag meanwhile; then the database size and the sustained
write rate after 10,000 recorded answers.  Run: `python -m benchmarks.quiz_storage`.
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.core.lessons import Lesson
from bot.core.quiz import QuizGame
from bot.core.storage import AnswerRow
from bot.storage.sqlite import SqliteStorage

LESSON = Lesson.model_validate(
    {
        "id": "bench",
        "title": "bench",
        "examples": [{"id": "e", "code": "pass"}],
        "quiz": [
            {
                "id": "q1",
                "type": "choice",
                "prompt": "?",
                "explanation": ".",
                "choices": ["1 s", "2 s", "3 s"],
                "answer": "1 s",
            }
        ],
    }
)


async def lag_probe(stop: asyncio.Event, out: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(0.005)
        out.append(time.perf_counter() - start - 0.005)


async def burst(store: SqliteStorage, members: int, window: float) -> None:
    game = QuizGame("bench", list(LESSON.quiz))
    rnd = game.next_question(now=time.time(), duration=30)
    latencies: list[float] = []
    lags: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(lag_probe(stop, lags))

    async def member(uid: int) -> None:
        await asyncio.sleep(random.uniform(0, window))
        clicked = time.perf_counter()
        sub = rnd.answer(uid, random.choice(["1 s", "2 s", "3 s"]), now=time.time())
        await store.record_answer(1, AnswerRow("burst", "q1", uid, list(sub.value), time.time()))
        latencies.append(time.perf_counter() - clicked)

    started = time.perf_counter()
    await asyncio.gather(*(member(uid) for uid in range(members)))
    wall = time.perf_counter() - started
    stop.set()
    await probe
    reveal = game.close_current()
    rows = await store.answers("burst", "q1")
    latencies.sort()
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(f"{members} members answering within {window:.0f} s (wall {wall:.2f} s)")
    print(f"  answers recorded     {len(rows)} (distribution {reveal.distribution})")
    print(f"  click -> committed   median {statistics.median(latencies) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms")
    print(f"  loop lag             max {max(lags) * 1000:.2f} ms")


async def volume(store: SqliteStorage, path: Path, total: int) -> None:
    started = time.perf_counter()
    for i in range(total):
        await store.record_answer(1, AnswerRow(f"quiz-{i // 100}", f"q{i % 10}", i % 500, ["1 s"], time.time()))
    elapsed = time.perf_counter() - started
    async with store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)"):
        pass
    size = os.stat(path).st_size
    print(f"{total} answers recorded one transaction each")
    print(f"  write rate           {total / elapsed:.0f} answers/s ({elapsed:.2f} s)")
    print(f"  database size        {size / 1024:.0f} KiB ({size / total:.0f} bytes per answer)")


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        store = SqliteStorage(path)
        await store.open()
        try:
            await burst(store, members=200, window=1.0)
            await volume(store, path, total=10_000)
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main())
