"""Discord front-end figures: the real bot, Runner and Catalog against the fakediscord emulator.

    python -m benchmarks.discord_bot [--users 50] [--samples 20]

Prints: interaction -> first output visible in the run message (median, p90); REST calls and 429s for a
10 s run printing 100 lines; the event loop's maximum lag while N users run examples at once (the bot and
the emulator share this process's loop, so the lag is an upper bound for the bot alone).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import lag_monitor
from bot.discord_app.client import CorobotBot
from tests.discord_app.env import emulated, is_final
from tests.fakediscord import FakeDiscord, Limit, running

log = logging.getLogger(__name__)


async def first_output(fd: FakeDiscord, users: list, samples: int) -> list[float]:
    delays: list[float] = []
    for i in range(samples):
        user = users[i % len(users)]
        t0 = time.monotonic()
        ix = await fd.slash(user, "run", {"lesson": "hello"})
        await fd.wait_until(lambda ix=ix: ix.original is not None and "s  Hello" in ix.original.content, 10)
        seen = next(
            r.time for r in fd.requests if ix.token in r.path and r.json and "s  Hello" in str(r.json.get("content"))
        )
        delays.append(seen - t0)
        await fd.wait_until(lambda ix=ix: is_final(ix.original), 10)
    return delays


async def measure(fd: FakeDiscord, runner_description: str, user_count: int, samples: int) -> None:
    users = [fd.add_user(f"user{i}") for i in range(user_count)]
    print(f"runner: {runner_description}")
    delays = await first_output(fd, users, samples)
    q = statistics.quantiles(delays, n=10)
    print(
        f"interaction -> first output visible: median {statistics.median(delays) * 1000:.0f} ms, "
        f"p90 {q[-1] * 1000:.0f} ms (n={len(delays)}, example prints at +0 s)"
    )

    before = len(fd.requests)
    ix = await fd.slash(users[0], "run", {"lesson": "stream", "example": "hundred"})
    await fd.wait_until(lambda: is_final(ix.original), 60)
    calls = [r for r in fd.requests if ix.token in r.path]
    limited = [r for r in fd.requests[before:] if r.status == 429]
    print(
        f"100 lines over 10 s: {len(calls)} REST calls for the run message "
        f"({ix.original.edits} edits), {len(limited)} x 429"
    )

    stop = asyncio.Event()
    lags: list[float] = []
    monitor = asyncio.create_task(lag_monitor(stop, lags))
    before = len(fd.requests)
    t0 = time.monotonic()
    ixs = await asyncio.gather(*(fd.slash(u, "run", {"lesson": "stream", "example": "mid"}) for u in users))
    await fd.wait_until(lambda: all(is_final(x.original) for x in ixs), 120)
    wall = time.monotonic() - t0
    stop.set()
    await monitor
    limited = [r for r in fd.requests[before:] if r.status == 429]
    complete = sum(1 for x in ixs if "mid 19" in x.original.content)
    print(
        f"{len(users)} users at once (2 s example, 20 lines each): all final in {wall:.2f} s, "
        f"{complete}/{len(users)} complete, loop lag max {max(lags) * 1000:.1f} ms, "
        f"p99 {statistics.quantiles(lags, n=100)[-1] * 1000:.1f} ms, "
        f"{len(fd.requests) - before} REST calls, {len(limited)} x 429"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runner_options = {"max_concurrent": 64, "queue_size": 200}
    rate = {"rate_limit": {"runs": 1000, "per_seconds": 60}}
    limits = {"webhooks": Limit(5, 2.0)}  # Discord-like webhook limits (the emulator's defaults)
    with tempfile.TemporaryDirectory() as tmp:
        async with emulated(Path(tmp), fd_options=limits, runner=runner_options, discord=rate) as parts:
            bot = CorobotBot(parts.settings, parts.catalog, parts.runner, guild_ready_timeout=0.05)
            async with running(bot, parts.fd):
                await measure(parts.fd, parts.runner.describe(), args.users, args.samples)


if __name__ == "__main__":
    asyncio.run(main())
