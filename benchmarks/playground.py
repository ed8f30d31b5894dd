"""Learner-code figures: the real bot, Runner and storage against the fakediscord emulator.

    python -m benchmarks.playground [--users 50] [--samples 20]

Prints: Edit & run form submitted -> the edited run's first output line visible in its message (median, p90;
the original's comparison run is cached after the first); the same for /try; then N learners submitting
their own code at once (each run prints 20 lines over 2 s): wall time until every message is final, how many
completed, REST calls and 429s, and the event loop's lag (the bot and the emulator share this loop, so the lag
is an upper bound for the bot alone).
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
from bot.config import LearnerQuotaSettings, PlaygroundSettings, RateLimit
from bot.discord_app.client import CorobotBot
from tests.discord_app.env import emulated
from tests.discord_app.playground.helpers import is_done
from tests.fakediscord import FakeDiscord, FakeInteraction, FakeUser, Limit, running

log = logging.getLogger(__name__)

EDITED = 'import asyncio\nprint("Hello, edited")\nasyncio.run(asyncio.sleep(0.2))\nprint("World")\n'
TWENTY_LINES = """\
import asyncio

async def main():
    for i in range(20):
        print(f"line {i:02d}")
        await asyncio.sleep(0.1)

asyncio.run(main())
"""


def first_seen(fd: FakeDiscord, ix: FakeInteraction, text: str) -> float:
    """When the request that first showed `text` in the interaction's message was made (monotonic)."""
    return next(r.time for r in fd.requests if ix.token in r.path and r.json and text in str(r.json.get("content")))


async def edit_and_run(fd: FakeDiscord, users: list[FakeUser], samples: int) -> list[float]:
    delays: list[float] = []
    ran = await fd.slash(users[0], "run", {"lesson": "hello"})
    await fd.wait_until(lambda: ran.original is not None and "cb:edit:hello:hello" in ran.original.custom_ids(), 10)
    message = ran.original
    assert message is not None
    for i in range(samples):
        user = users[i % len(users)]
        opened = await fd.click(user, message, "cb:edit:hello:hello")
        t0 = time.monotonic()
        ix = await fd.submit_modal(user, opened, {"code": EDITED})
        await fd.wait_until(lambda ix=ix: ix.original is not None and "s  Hello, edited" in ix.original.content, 10)
        delays.append(first_seen(fd, ix, "s  Hello, edited") - t0)
        await fd.wait_until(lambda ix=ix: is_done(ix.original), 20)
    return delays


async def try_form(fd: FakeDiscord, users: list[FakeUser], samples: int) -> list[float]:
    delays: list[float] = []
    for i in range(samples):
        user = users[i % len(users)]
        opened = await fd.slash(user, "try")
        t0 = time.monotonic()
        ix = await fd.submit_modal(user, opened, {"code": "print('first line')\n"})
        await fd.wait_until(lambda ix=ix: ix.original is not None and "s  first line" in ix.original.content, 10)
        delays.append(first_seen(fd, ix, "s  first line") - t0)
        await fd.wait_until(lambda ix=ix: is_done(ix.original), 20)
    return delays


def describe(label: str, delays: list[float]) -> str:
    p90 = statistics.quantiles(delays, n=10)[-1]
    return f"{label}: median {statistics.median(delays) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms (n={len(delays)})"


async def crowd(fd: FakeDiscord, users: list[FakeUser]) -> None:
    forms = [await fd.slash(user, "try") for user in users]
    stop = asyncio.Event()
    lags: list[float] = []
    monitor = asyncio.create_task(lag_monitor(stop, lags))
    before = len(fd.requests)
    t0 = time.monotonic()
    ixs = await asyncio.gather(
        *(fd.submit_modal(user, opened, {"code": TWENTY_LINES}) for user, opened in zip(users, forms, strict=True))
    )
    await fd.wait_until(lambda: all(is_done(x.original) for x in ixs), 120)
    wall = time.monotonic() - t0
    stop.set()
    await monitor
    limited = [r for r in fd.requests[before:] if r.status == 429]
    complete = sum(1 for x in ixs if x.original is not None and "line 19" in x.original.content)
    print(
        f"{len(users)} learners submitting at once (2 s program, 20 lines each): all final in {wall:.2f} s, "
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
    lots = RateLimit(runs=10_000, per_seconds=60)
    playground = PlaygroundSettings(quota=LearnerQuotaSettings(per_user=lots, per_guild=lots))
    limits = {"webhooks": Limit(5, 2.0)}  # Discord-like webhook limits (the emulator's defaults)
    with tempfile.TemporaryDirectory() as tmp:
        async with emulated(
            Path(tmp), fd_options=limits, runner=runner_options, discord=rate, playground=playground
        ) as parts:
            bot = CorobotBot(parts.settings, parts.catalog, parts.runner, guild_ready_timeout=0.05)
            async with running(bot, parts.fd):
                fd = parts.fd
                users = [fd.add_user(f"learner{i}") for i in range(args.users)]
                print(f"runner: {parts.runner.describe()}")
                edits = await edit_and_run(fd, users, args.samples)
                print(describe("Edit & run submitted -> first output line visible", edits))
                tries = await try_form(fd, users, args.samples)
                print(describe("/try form submitted -> first output line visible", tries))
                await crowd(fd, users)


if __name__ == "__main__":
    asyncio.run(main())
