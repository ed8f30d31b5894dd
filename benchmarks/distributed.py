"""Distributed figures, side by side with the embedded mode (one run of each measure).

    python -m benchmarks.distributed [--samples 30] [--burst 200] [--redis URL]

1. `/run` -> first output line visible in Discord (the real bot against the emulator, in this process):
   embedded (the Runner in the bot's process) vs through Redis (RemoteRunner -> a `corobot runner-node`
   subprocess); and the same without Discord (submit -> first Output event), the two interleaved sample by sample.
2. A burst of N two-task runs (each task sleeps 1 s) through one runner node vs two (subprocesses, 200 slots
   each), and embedded: wall time, the machine's CPU-seconds meanwhile (/proc/stat), Redis commands per run.
3. Failover: a node holding runs and prefetched requests is killed (SIGKILL) with the default heartbeat (1 s) and
   dead_after (3 s): how long until its runs end `killed` at the bot, and until its held requests start elsewhere.
4. Answers/s on SQLite vs PostgreSQL (benchmarks.storage's measures, one run).

Redis is a private `redis-server` on a free port (so its command counts are this benchmark's alone), unless
--redis names one.  PostgreSQL is 127.0.0.1:5432 (a scratch database, dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from redis.asyncio import Redis

from benchmarks.storage import ADMIN_URL, burst, database, rate
from bot.cluster.connection import connect
from bot.cluster.keys import Keys
from bot.cluster.remote import RemoteRunner
from bot.cluster.remote_run import RemoteRun
from bot.config import RunnerSettings
from bot.core.events import Finished, Output, Started
from bot.core.runner import Runner
from bot.core.runs import RunnerLike
from bot.discord_app.client import CorobotBot
from tests.cluster.deployment import Deployment, free_port, lesson_files
from tests.discord_app.env import is_final, settings_for
from tests.fakediscord import FakeDiscord, running

log = logging.getLogger(__name__)

TWO_TASKS = """\
import asyncio

async def say(what, delay):
    await asyncio.sleep(delay)
    print(what)

async def main():
    first = asyncio.create_task(say("hello", 1), name="first")
    second = asyncio.create_task(say("world", 1), name="second")
    await first
    await second

asyncio.run(main())
"""
FIRST = "print('Hello', flush=True)\n"
LONG = "import time\nprint('up', flush=True)\ntime.sleep(6)\n"
CORES = os.cpu_count() or 1


def ms(values: list[float], q: float | None = None) -> str:
    if q is None:
        return f"{statistics.median(values) * 1000:6.2f}"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000:6.2f}"


def busy_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


@contextlib.asynccontextmanager
async def private_redis(url: str | None) -> AsyncIterator[str]:
    if url:
        yield url
        return
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = Redis(port=port)
        for _ in range(100):
            with contextlib.suppress(Exception):
                if await client.ping():
                    break
            await asyncio.sleep(0.05)
        await client.aclose()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


async def commands_processed(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_commands_processed"])


# -- 1. first output -------------------------------------------------------------------------------------
async def first_output_discord(fd: FakeDiscord, bot: CorobotBot, samples: int) -> list[float]:
    users = [fd.add_user(f"user{i}-{secrets.token_hex(2)}") for i in range(samples)]
    delays: list[float] = []
    for user in users:
        t0 = time.monotonic()
        ix = await fd.slash(user, "run", {"lesson": "hello"})
        await fd.wait_until(lambda ix=ix: ix.original is not None and "s  Hello" in ix.original.content, 10)
        seen = next(
            r.time for r in fd.requests if ix.token in r.path and r.json and "s  Hello" in str(r.json.get("content"))
        )
        delays.append(seen - t0)
        await fd.wait_until(lambda ix=ix: is_final(ix.original), 10)
    return delays


async def discord_phase(root: Path, runner: RunnerLike, samples: int) -> list[float]:
    async with FakeDiscord() as fd:
        settings = settings_for(root, fd, discord={"rate_limit": {"runs": 1000, "per_seconds": 60}})
        from bot.core.catalog import Catalog

        catalog = Catalog(settings.lessons_dir)
        catalog.load()
        bot = CorobotBot(settings, catalog, runner, guild_ready_timeout=0.05)
        async with running(bot, fd):
            await first_output_discord(fd, bot, 3)  # warm-up
            return await first_output_discord(fd, bot, samples)


async def submit_to_output(runner: RunnerLike) -> float:
    t0 = time.perf_counter()
    run = await runner.submit(FIRST, owner=None)
    took = 0.0
    async for event in run:
        if isinstance(event, Output) and not took:
            took = time.perf_counter() - t0
    return took


# -- 2. burst --------------------------------------------------------------------------------------------
async def burst_of(runner: RunnerLike, n: int, redis: Redis | None) -> dict[str, float]:
    before_cmd = await commands_processed(redis) if redis is not None else 0
    busy0, total0 = busy_jiffies()
    t0 = time.perf_counter()
    runs = [await runner.submit(TWO_TASKS) for _ in range(n)]
    results = await asyncio.gather(*(run.wait() for run in runs))
    wall = time.perf_counter() - t0
    busy1, total1 = busy_jiffies()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (busy1 - busy0) / ticks
    ok = sum(1 for r in results if r.status == "ok")
    after_cmd = await commands_processed(redis) if redis is not None else 0
    share = (busy1 - busy0) / max(1, total1 - total0)
    return {"wall": wall, "cpu": cpu, "ok": ok, "util": share, "commands": (after_cmd - before_cmd) / n}


# -- 3. failover -----------------------------------------------------------------------------------------
async def failover(root: Path, url: str) -> dict[str, float]:
    keys = Keys(f"bench-{secrets.token_hex(4)}")
    redis = connect(url, name="bench-failover")
    async with Deployment(root, None, redis, keys, "sqlite:///unused.sqlite3", redis_url=url, cluster={}) as d:
        n1 = await d.start_node("f1", max_concurrent=4, prefetch=4)
        await d.start_node("f2", max_concurrent=16)
        await d.wait_ready(nodes=2, bots=0, shards=0)
        limits = RunnerSettings(max_concurrent=1, per_user=100, queue_size=400).limits()
        async with RemoteRunner(redis, keys, limits, heartbeat=1.0, dead_after=3.0) as remote:
            runs = [await remote.submit(LONG) for _ in range(12)]  # f2 keeps free slots for what f1 held
            for _ in range(500):
                running_on = await redis.hgetall(keys.running)
                pending = await redis.xpending_range(keys.requests, "nodes", "-", "+", 100, consumername="f1")
                if sum(1 for n in running_on.values() if n == "f1") == 4 and pending:
                    break
                await asyncio.sleep(0.01)
            held_entries = {p["message_id"] for p in pending}
            held_runs = set()
            for entry_id, fields in await redis.xrange(keys.requests):
                if entry_id in held_entries:
                    held_runs.add(int(fields["run"]))
            doomed = {int(r) for r, n in running_on.items() if n == "f1"}
            ended: dict[int, float] = {}
            started: dict[int, float] = {}

            async def watch(handle: RemoteRun) -> None:
                async for event in handle:
                    if isinstance(event, Started):
                        started[handle.id] = time.perf_counter()
                    elif isinstance(event, Finished):
                        ended[handle.id] = time.perf_counter()

            watchers = [asyncio.create_task(watch(run)) for run in runs]
            await asyncio.sleep(0.2)
            t0 = time.perf_counter()
            n1.kill()
            await asyncio.wait_for(asyncio.gather(*watchers), 60)
        await redis.aclose()
    killed = [ended[r] - t0 for r in doomed if r in ended]
    taken = [started[r] - t0 for r in held_runs if r in started]
    return {"killed": max(killed), "takeover": min(taken) if taken else float("nan"), "held": len(held_runs)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--redis", help="use this Redis instead of a private redis-server")
    parser.add_argument("--postgres", default=ADMIN_URL)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if not args.redis and not shutil.which("redis-server"):
        sys.exit("redis-server is not installed (apt-get install redis-server), or pass --redis URL")
    print(f"machine: {CORES} cores, load {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lesson_files(root / "lessons")
        async with private_redis(args.redis) as url:
            await measure(root, url, args)


async def measure(root: Path, url: str, args: argparse.Namespace) -> None:
    keys = Keys(f"bench-{secrets.token_hex(4)}")
    redis = connect(url, name="bench")
    table: list[tuple[str, str, str]] = []
    local_limits = RunnerSettings(max_concurrent=200, per_user=1000, queue_size=400).limits()
    bot_limits = RunnerSettings(max_concurrent=16, per_user=1, queue_size=400).limits()
    async with Deployment(root, None, redis, keys, "sqlite:///unused.sqlite3", redis_url=url) as d:
        await d.start_node("n1", max_concurrent=200, per_user=1000, queue_size=400)
        await d.wait_ready(nodes=1, bots=0, shards=0)
        # 1. first output
        async with Runner(bot_limits) as local, RemoteRunner(redis, keys, bot_limits, heartbeat=0.2, dead_after=1.0) as remote:
            for _ in range(5):
                await submit_to_output(local)
                await submit_to_output(remote)
            core_local, core_remote = [], []
            for _ in range(args.samples):
                core_local.append(await submit_to_output(local))
                core_remote.append(await submit_to_output(remote))
            rounds = 2
            disc_local: list[float] = []
            disc_remote: list[float] = []
            for _ in range(rounds):
                disc_local += await discord_phase(root, local, args.samples // rounds)
                disc_remote += await discord_phase(root, remote, args.samples // rounds)
        added = (statistics.median(disc_remote) - statistics.median(disc_local)) * 1000
        core_added = (statistics.median(core_remote) - statistics.median(core_local)) * 1000
        print("\n1. time to first output (ms)            embedded median/p90   via Redis median/p90   added")
        print(f"   /run -> first line visible (Discord)   {ms(disc_local)} / {ms(disc_local, 0.9)}      "
              f"{ms(disc_remote)} / {ms(disc_remote, 0.9)}     {added:+.2f}")  # fmt: skip
        print(f"   submit -> first Output event           {ms(core_local)} / {ms(core_local, 0.9)}      "
              f"{ms(core_remote)} / {ms(core_remote, 0.9)}     {core_added:+.2f}")  # fmt: skip
        table.append(("/run -> first output visible, median", f"{ms(disc_local)} ms", f"{ms(disc_remote)} ms"))

        # 2. burst
        print(f"\n2. {args.burst} concurrent two-task runs (1 s sleeps)   wall s   machine CPU-s   CPU busy   "
              "Redis cmds/run   ok")  # fmt: skip
        async with Runner(local_limits) as local:
            await burst_of(local, 10, None)
            embedded = await burst_of(local, args.burst, None)
        rows = [("embedded (one process)", embedded)]
        big = RunnerSettings(max_concurrent=400, per_user=1000, queue_size=400).limits()
        async with RemoteRunner(redis, keys, big, heartbeat=0.2, dead_after=1.0) as remote:
            await burst_of(remote, 10, redis)
            rows.append(("one runner node", await burst_of(remote, args.burst, redis)))
            await d.start_node("n2", max_concurrent=200, per_user=1000, queue_size=400)
            await d.wait_ready(nodes=2, bots=0, shards=0)
            await burst_of(remote, 10, redis)
            rows.append(("two runner nodes", await burst_of(remote, args.burst, redis)))
        for label, r in rows:
            print(f"   {label:38s} {r['wall']:6.2f}   {r['cpu']:13.2f}   {r['util'] * 100:7.0f} %   "
                  f"{r['commands']:14.1f}   {r['ok']:.0f}")  # fmt: skip
        per_run = rows[1][1]["cpu"] / args.burst
        print(f"   CPU per run (one node, whole machine): {per_run * 1000:.1f} ms; this machine's {CORES} cores "
              f"could do at most {CORES / per_run:.0f} runs/s")  # fmt: skip
        table.append((f"{args.burst}-run burst, wall", f"{embedded['wall']:.2f} s", f"{rows[1][1]['wall']:.2f} s (1 node), "
                      f"{rows[2][1]['wall']:.2f} s (2 nodes)"))  # fmt: skip
    await redis.aclose()

    # 3. failover
    figures = await failover(root, url)
    print(f"\n3. failover (heartbeat 1 s, dead_after 3 s): a killed node's runs end `killed` after "
          f"{figures['killed']:.2f} s; its {figures['held']:.0f} held request(s) start on another node after "
          f"{figures['takeover']:.2f} s")  # fmt: skip
    table.append(("failover: runs ended / held requests restarted", "-", f"{figures['killed']:.2f} s / "
                  f"{figures['takeover']:.2f} s"))  # fmt: skip

    # 4. storage
    print("\n4. answers/s (each its own transaction)     one at a time   20 at a time")
    speeds: dict[str, tuple[float, float]] = {}
    for kind in ("sqlite", "postgresql"):
        async with database(kind, args.postgres) as store:
            await burst(store)
            speeds[kind] = (await rate(store, 3000, 1), await rate(store, 3000, 20))
        print(f"   {kind:40s} {speeds[kind][0]:13.0f}   {speeds[kind][1]:12.0f}")
    table.append(("answers/s, 20 members at a time", f"{speeds['sqlite'][1]:.0f} (SQLite)",
                  f"{speeds['postgresql'][1]:.0f} (PostgreSQL)"))  # fmt: skip

    print("\nside by side                                      embedded                  distributed")
    for label, left, right in table:
        print(f"  {label:46s}  {left:24s}  {right}")


if __name__ == "__main__":
    asyncio.run(main())
