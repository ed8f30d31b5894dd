"""Quiz figures: the real bot (Runner, Catalog, SQLite file) against the fakediscord emulator.

    python -m benchmarks.discord_quiz [--members 200] [--spread 1.0] [--answers 10000]

Prints: N members answering one question within `spread` seconds — answers recorded, latency from the
click (INTERACTION_CREATE sent) to the bot's acknowledgement (p50/p99/max), the event loop's lag meanwhile
(bot and emulator share this loop, so it is an upper bound for the bot); then the database's size and
write rate after recording `answers` answers through `SqliteStorage.record_answer` (each its own transaction).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

from benchmarks.common import lag_monitor
from bot.core.storage import AnswerRow
from bot.discord_app.client import CorobotBot
from bot.discord_app.context import QuizTiming
from bot.storage.sqlite import SqliteStorage
from tests.discord_app.env import QUIZ_LESSON, emulated
from tests.fakediscord import running

log = logging.getLogger(__name__)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def burst(tmp_path: Path, members: int, spread: float) -> None:
    (tmp_path / "lessons").mkdir(parents=True)
    (tmp_path / "lessons" / "tasks.yaml").write_text(textwrap.dedent(QUIZ_LESSON), encoding="utf-8")
    async with emulated(tmp_path) as parts:
        fd = parts.fd
        storage = SqliteStorage(parts.settings.data_dir / "corobot.sqlite3")
        await storage.open()
        timing = QuizTiming(question_timeout=spread + 30)
        bot = CorobotBot(
            parts.settings, parts.catalog, parts.runner, storage=storage, quiz_timing=timing, guild_ready_timeout=0.05
        )
        try:
            async with running(bot, fd):
                users = [fd.add_user(f"m{i:03d}") for i in range(members)]
                await fd.slash(users[0], "quiz", {"lesson": "tasks", "count": 1})
                await fd.wait_until(lambda: any(c.startswith("cq:c:") for m in fd.messages() for c in m.custom_ids()))
                question = next(m for m in fd.messages() if any(c.startswith("cq:c:") for c in m.custom_ids()))
                ids = [c for c in question.custom_ids() if c.startswith("cq:c:")]
                stop = asyncio.Event()
                lags: list[float] = []
                monitor = asyncio.create_task(lag_monitor(stop, lags))
                t0 = time.monotonic()
                sent = []
                for i, user in enumerate(users):
                    delay = t0 + spread * i / members - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent.append(await fd.click(user, question, ids[i % len(ids)], wait=False))
                dispatched = time.monotonic() - t0
                await asyncio.gather(*(ix.wait_response(30) for ix in sent))
                stop.set()
                await monitor
                latencies = sorted(ix.responded_at - ix.dispatched_at for ix in sent)
                async with storage.db.execute("SELECT COUNT(*), COUNT(DISTINCT user_id) FROM answers") as cur:
                    rows, distinct = await cur.fetchone()
                acked = sum(1 for ix in sent if ix.original is not None and ix.original.ephemeral)
                p = statistics.quantiles(latencies, n=100)
                print(f"{members} members answering one question within {dispatched:.2f} s:")
                print(f"  recorded {rows} answers ({distinct} distinct members), {acked} ephemeral acknowledgements")
                print(f"  click -> acknowledgement: p50 {ms(p[49])}, p99 {ms(p[98])}, max {ms(latencies[-1])}")
                print(f"  event loop lag: p99 {ms(statistics.quantiles(lags, n=100)[98])}, max {ms(max(lags))}")
        finally:
            await storage.close()


async def volume(tmp_path: Path, answers: int) -> None:
    path = tmp_path / "volume.sqlite3"
    storage = SqliteStorage(path)
    await storage.open()
    per_question = 200
    t0 = time.perf_counter()
    for start in range(0, answers, per_question):
        question = f"q{start // per_question}"
        members = range(10_000, 10_000 + min(per_question, answers - start))
        rows = [AnswerRow("quiz-1", question, member, "0.3 s", time.time()) for member in members]
        await asyncio.gather(*(storage.record_answer(1, row) for row in rows))
    elapsed = time.perf_counter() - t0
    t1 = time.perf_counter()
    await storage.score_answers("quiz-1", "q0", {10_000 + u: (u % 2 == 0, 10) for u in range(per_question)})
    scored = time.perf_counter() - t1
    wal = path.with_name(path.name + "-wal")
    wal_size = wal.stat().st_size if wal.exists() else 0
    await storage.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    async with storage.db.execute("SELECT COUNT(*) FROM answers") as cur:
        (count,) = await cur.fetchone()
    await storage.close()
    print(f"{answers} answers recorded ({count} rows), 200 concurrent at a time, one transaction each:")
    print(f"  {answers / elapsed:.0f} writes/s ({elapsed:.2f} s), scoring 200 answers in one transaction {ms(scored)}")
    per_answer = size / count
    sizes = f"database {size / 1024:.0f} KiB after checkpoint ({per_answer:.0f} B per answer)"
    print(f"  {sizes}, WAL peak {wal_size / 1024:.0f} KiB")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--spread", type=float, default=1.0)
    parser.add_argument("--answers", type=int, default=10_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        await burst(Path(tmp), args.members, args.spread)
        await volume(Path(tmp), args.answers)


if __name__ == "__main__":
    asyncio.run(main())
