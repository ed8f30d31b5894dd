"""Benchmark: quiz answers on SQLite vs PostgreSQL, through the same storage code the bot uses.

For each database and each run: 200 members answering one question within 1 s (click -> committed p50/p99,
the event loop's worst lag meanwhile), then answers/s for 3,000 answers written one after another and for
3,000 written by 20 members at a time (each answer its own transaction).  PostgreSQL is the server on
127.0.0.1:5432 (a scratch database per run, dropped afterwards; override with --postgres URL).

Run from the repository root: `python -m benchmarks.storage [--runs 3]`.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from benchmarks.common import lag_monitor
from bot.core.storage import AnswerRow
from bot.storage.sql import SqlStorage
from bot.storage.url import storage_for

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@asynccontextmanager
async def database(kind: str, admin_url: str) -> AsyncIterator[SqlStorage]:
    """An opened, empty storage of `kind`, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            store = storage_for(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
            await store.open()
            try:
                yield store
            finally:
                await store.close()
        return
    name = f"corobot_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        store = storage_for(urlsplit(admin_url)._replace(path=f"/{name}").geturl())
        await store.open()
        try:
            yield store
        finally:
            await store.close()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def burst(store: SqlStorage, members: int = 200, window: float = 1.0) -> dict[str, float]:
    latencies: list[float] = []
    lags: list[float] = []
    stop = asyncio.Event()
    monitor = asyncio.create_task(lag_monitor(stop, lags, period=0.005))

    async def member(uid: int) -> None:
        await asyncio.sleep(random.uniform(0, window))
        clicked = time.perf_counter()
        await store.record_answer(1, AnswerRow("burst", "q1", uid, [random.choice("abc")], time.time()))
        latencies.append(time.perf_counter() - clicked)

    await asyncio.gather(*(member(uid) for uid in range(members)))
    stop.set()
    await monitor
    recorded = len(await store.answers("burst", "q1"))
    assert recorded == members, f"{recorded} of {members} answers recorded"
    return {"p50": statistics.median(latencies) * 1000, "p99": percentile(latencies, 0.99) * 1000,
            "lag": max(lags) * 1000}  # fmt: skip


async def rate(store: SqlStorage, total: int, parallel: int) -> float:
    """Answers per second, `parallel` members answering at a time."""
    counter = iter(range(total))

    async def member() -> None:
        for i in counter:
            await store.record_answer(1, AnswerRow(f"rate-{parallel}-{i // 100}", f"q{i % 10}", i, ["a"], time.time()))

    started = time.perf_counter()
    await asyncio.gather(*(member() for _ in range(parallel)))
    return total / (time.perf_counter() - started)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--answers", type=int, default=3000)
    parser.add_argument("--postgres", default=ADMIN_URL, help="admin URL (CREATE DATABASE rights)")
    args = parser.parse_args()
    results: dict[str, list[dict[str, float]]] = {"sqlite": [], "postgresql": []}
    for run in range(1, args.runs + 1):
        for kind in results:
            async with database(kind, args.postgres) as store:
                figures = await burst(store)
                figures["sequential"] = await rate(store, args.answers, 1)
                figures["parallel"] = await rate(store, args.answers, 20)
            results[kind].append(figures)
            print(f"run {run} {kind:<10} click->committed p50 {figures['p50']:.2f} ms, p99 {figures['p99']:.2f} ms, "
                  f"loop lag max {figures['lag']:.1f} ms; {figures['sequential']:.0f} answers/s one at a time, "
                  f"{figures['parallel']:.0f} answers/s 20 at a time", flush=True)  # fmt: skip
    print(f"\nover {args.runs} runs (min-max):")
    for kind, runs in results.items():

        def span(key: str, digits: int = 0, runs: list[dict[str, float]] = runs) -> str:
            values = [r[key] for r in runs]
            return f"{min(values):.{digits}f}-{max(values):.{digits}f}"

        print(f"  {kind:<10} 200 answers within 1 s: p50 {span('p50', 2)} ms, p99 {span('p99', 2)} ms, "
              f"lag max {span('lag', 1)} ms | {span('sequential')} answers/s one at a time, "
              f"{span('parallel')} answers/s 20 at a time")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
