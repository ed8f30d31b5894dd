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
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from benchmarks.discord_bot import first_output
from benchmarks.runner import TWO_TASKS
from benchmarks.storage import ADMIN_URL, burst, database, rate
from bot.cluster.connection import connect
from bot.cluster.keys import Keys
from bot.cluster.remote import RemoteRunner
from bot.cluster.remote_run import RemoteRun
from bot.config import RunnerSettings
from bot.core.catalog import Catalog
from bot.core.events import Finished, Output, Started
from bot.core.runner import Runner
from bot.core.runs import RunnerLike
from bot.discord_app.client import CorobotBot
from tests.cluster.deployment import Deployment, free_port, lesson_files
from tests.discord_app.env import settings_for
from tests.fakediscord import FakeDiscord, running

log = logging.getLogger(__name__)

FIRST = "print('Hello', flush=True)\n"
LONG = "import time\nprint('up', flush=True)\ntime.sleep(15)\n"
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
async def private_redis(url: str | None) -> AsyncIterator[tuple[str, int | None]]:
    """(url, server pid): the given Redis, or a private redis-server on a free port, stopped afterwards."""
    if url:
        yield url, None
        return
    port = free_port()
    argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    server = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.DEVNULL)
    try:
        client = Redis(port=port)
        for _ in range(100):
            with contextlib.suppress(Exception):
                if await client.ping():
                    break
            await asyncio.sleep(0.05)
        await client.aclose()
        yield f"redis://127.0.0.1:{port}/0", server.pid
    finally:
        server.terminate()
        await server.wait()


def tree_cpu(root: int) -> float:
    """CPU-seconds of process `root` and everything below it, including children already reaped (/proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(x) for x in fields[11:15]) / ticks  # utime stime cutime cstime
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += times.get(pid, 0.0)
        todo += [child for child, parent in parents.items() if parent == pid]
    return total


async def commands_processed(redis: Redis) -> int:
    return int((await redis.info("stats"))["total_commands_processed"])


# -- 1. first output -------------------------------------------------------------------------------------
class Switch:
    """The bot's runner, switched between the embedded one and the remote one sample by sample (so both are
    measured under the same, drifting, load of this shared machine)."""

    def __init__(self, runners: dict[str, RunnerLike]) -> None:
        self.runners = runners
        self.current = next(iter(runners))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.runners[self.current], name)


async def discord_samples(root: Path, runners: dict[str, RunnerLike], samples: int) -> dict[str, list[float]]:
    """/run -> first output line visible in the run message, alternating the runner every sample."""
    switch = Switch(runners)
    delays: dict[str, list[float]] = {name: [] for name in runners}
    async with FakeDiscord() as fd:
        settings = settings_for(root, fd, discord={"rate_limit": {"runs": 1000, "per_seconds": 60}})
        catalog = Catalog(settings.lessons_dir)
        catalog.load()
        bot = CorobotBot(settings, catalog, switch, guild_ready_timeout=0.05)  # a RunnerLike by delegation
        async with running(bot, fd):
            users = [fd.add_user(f"user{i}") for i in range(samples)]
            for name in runners:
                switch.current = name
                await first_output(fd, users, 3)  # warm-up
            for i in range(samples):
                for name in runners:
                    switch.current = name
                    delays[name] += await first_output(fd, [users[i]], 1)
    return delays


async def submit_to_output(runner: RunnerLike) -> float:
    t0 = time.perf_counter()
    run = await runner.submit(FIRST, owner=None)
    took = 0.0
    async for event in run:
        if isinstance(event, Output) and not took:
            took = time.perf_counter() - t0
    return took


# -- 2. burst --------------------------------------------------------------------------------------------
class Meter:
    """CPU-seconds of the parts of the system (this process = the bot side; Redis; each node's process tree with
    its worker and runs) and of the whole machine, between two readings."""

    def __init__(self, redis_pid: int | None, nodes: list[int]) -> None:
        self.redis_pid = redis_pid
        self.nodes = nodes

    def read(self) -> dict[str, float]:
        busy, total = busy_jiffies()
        ticks = os.sysconf("SC_CLK_TCK")
        nodes = sum(tree_cpu(pid) for pid in self.nodes)
        redis = tree_cpu(self.redis_pid) if self.redis_pid else 0.0
        bot = tree_cpu(os.getpid()) - nodes - redis  # this process and its own runner (embedded)
        return {"machine": busy / ticks, "slots": total / ticks, "bot": bot, "redis": redis, "nodes": nodes}


async def burst_of(runner: RunnerLike, n: int, meter: Meter, redis: Redis | None) -> dict[str, float]:
    before_cmd = await commands_processed(redis) if redis is not None else 0
    before = meter.read()
    t0 = time.perf_counter()
    runs = [await runner.submit(TWO_TASKS) for _ in range(n)]
    results = await asyncio.gather(*(run.wait() for run in runs))
    wall = time.perf_counter() - t0
    after = meter.read()
    used = {key: after[key] - before[key] for key in after}
    commands = (await commands_processed(redis) - before_cmd) / n if redis is not None else 0.0
    return {
        "wall": wall,
        "ok": sum(1 for r in results if r.status == "ok"),
        "busy": used["machine"] / used["slots"],
        "commands": commands,
        **{key: used[key] for key in ("machine", "bot", "redis", "nodes")},
    }


# -- 3. failover -----------------------------------------------------------------------------------------
async def failover(root: Path, url: str) -> dict[str, float]:
    keys = Keys(f"bench-{secrets.token_hex(4)}")
    redis = connect(url, name="bench-failover")
    async with Deployment(root, None, redis, keys, "sqlite:///unused.sqlite3", redis_url=url, cluster={}) as d:
        n1 = await d.start_node("f1", max_concurrent=4, prefetch=4)
        await d.wait_ready(nodes=1, bots=0, shards=0)
        limits = RunnerSettings(max_concurrent=1, per_user=100, queue_size=400).limits()
        async with RemoteRunner(redis, keys, limits, heartbeat=1.0, dead_after=3.0) as remote:
            runs = [await remote.submit(LONG) for _ in range(6)]  # f1 alone: 4 running, 2 read and held
            for _ in range(1000):
                running_on = await redis.hgetall(keys.running)
                pending = await redis.xpending_range(keys.requests, "nodes", "-", "+", 100, consumername="f1")
                if sum(1 for n in running_on.values() if n == "f1") == 4 and len(pending) == 2:
                    break
                await asyncio.sleep(0.01)
            await d.start_node("f2", max_concurrent=16)  # the node that takes over, with room to spare
            await d.wait_ready(nodes=2, bots=0, shards=0)
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
            for _ in range(3000):  # until f1's runs ended and what it held started elsewhere (30 s at most)
                if doomed <= ended.keys() and held_runs <= started.keys():
                    break
                await asyncio.sleep(0.01)
            for run in runs:
                run.cancel()
            await asyncio.wait_for(asyncio.gather(*watchers), 30)
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
    table: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lesson_files(root / "lessons")
        async with private_redis(args.redis) as (url, redis_pid):
            keys = Keys(f"bench-{secrets.token_hex(4)}")
            redis = connect(url, name="bench")
            try:
                async with Deployment(root, None, redis, keys, "sqlite:///unused.sqlite3", redis_url=url) as d:
                    node = await d.start_node("n1", max_concurrent=200, per_user=1000, queue_size=400)
                    await d.wait_ready(nodes=1, bots=0, shards=0)
                    table.append(await first_outputs(root, redis, keys, args.samples))
                    meter = Meter(redis_pid, [node.process.pid])
                    table.append(await bursts(d, redis, keys, meter, args.burst))
            finally:
                async for key in redis.scan_iter(match=keys.tag + ":*"):
                    await redis.delete(key)
                await redis.aclose()
            table.append(await failovers(root, url))
    table.append(await answers(args.postgres))
    print("\nside by side                                        embedded                 distributed")
    for label, left, right in table:
        print(f"  {label:48s}  {left:23s}  {right}")


async def first_outputs(root: Path, redis: Redis, keys: Keys, samples: int) -> tuple[str, str, str]:
    bot_limits = RunnerSettings(max_concurrent=16, per_user=1, queue_size=400).limits()
    remote = RemoteRunner(redis, keys, bot_limits, heartbeat=0.2, dead_after=1.0)
    async with Runner(bot_limits) as local, remote:
        for _ in range(5):
            await submit_to_output(local)
            await submit_to_output(remote)
        core_local, core_remote = [], []
        for _ in range(samples):  # interleaved: the machine's load drifts alike for both
            core_local.append(await submit_to_output(local))
            core_remote.append(await submit_to_output(remote))
        delays = await discord_samples(root, {"embedded": local, "redis": remote}, samples)
        disc_local, disc_remote = delays["embedded"], delays["redis"]
    print("\n1. time to first output (ms)              embedded median / p90   via Redis median / p90   added")
    for label, left, right in (
        ("/run -> first line visible (Discord)", disc_local, disc_remote),
        ("submit -> first Output event", core_local, core_remote),
    ):
        added = (statistics.median(right) - statistics.median(left)) * 1000
        print(f"   {label:38s} {ms(left)} / {ms(left, 0.9)}        {ms(right)} / {ms(right, 0.9)}      {added:+.2f}")
    return "/run -> first output visible, median", f"{ms(disc_local)} ms", f"{ms(disc_remote)} ms"


async def bursts(d: Deployment, redis: Redis, keys: Keys, meter: Meter, n: int) -> tuple[str, str, str]:
    print(f"\n2. {n} concurrent two-task runs (1 s sleeps): wall s, CPU-seconds (machine = bot side + Redis + nodes")
    print("   + everything else running here), machine busy, Redis commands per run, runs ok")
    local_limits = RunnerSettings(max_concurrent=200, per_user=1000, queue_size=400).limits()
    async with Runner(local_limits) as local:
        await burst_of(local, 10, meter, None)
        rows = [("embedded (the bot's own runner)", await burst_of(local, n, meter, None))]
    big = RunnerSettings(max_concurrent=400, per_user=1000, queue_size=400).limits()
    async with RemoteRunner(redis, keys, big, heartbeat=0.2, dead_after=1.0) as remote:
        await burst_of(remote, 10, meter, redis)
        rows.append(("one runner node", await burst_of(remote, n, meter, redis)))
        second = await d.start_node("n2", max_concurrent=200, per_user=1000, queue_size=400)
        await d.wait_ready(nodes=2, bots=0, shards=0)
        meter.nodes.append(second.process.pid)
        await burst_of(remote, 10, meter, redis)
        rows.append(("two runner nodes", await burst_of(remote, n, meter, redis)))
    print("   " + " " * 33 + "wall   machine   bot  Redis  nodes   busy  cmds/run  ok")
    for label, r in rows:
        print(
            f"   {label:31s} {r['wall']:6.2f} {r['machine']:8.2f} {r['bot']:6.2f} {r['redis']:6.2f} {r['nodes']:6.2f}"
            f" {r['busy'] * 100:5.0f} % {r['commands']:8.1f} {r['ok']:4.0f}"
        )
    one = rows[1][1]
    node_ms, redis_ms, bot_ms = (one[key] / n * 1000 for key in ("nodes", "redis", "bot"))
    print(f"   per run, one node: node side {node_ms:.1f} ms CPU, Redis {redis_ms:.2f} ms, bot side {bot_ms:.2f} ms")
    embedded, two = rows[0][1], rows[2][1]
    walls = f"{one['wall']:.2f} s (1 node), {two['wall']:.2f} s (2 nodes)"
    return f"{n}-run burst, wall", f"{embedded['wall']:.2f} s", walls


async def failovers(root: Path, url: str) -> tuple[str, str, str]:
    figures = await failover(root, url)
    print(
        f"\n3. failover (heartbeat 1 s, dead_after 3 s): a killed node's runs end `killed` after "
        f"{figures['killed']:.2f} s; its {figures['held']:.0f} held request(s) start on another node after "
        f"{figures['takeover']:.2f} s"
    )
    both = f"{figures['killed']:.2f} s / {figures['takeover']:.2f} s"
    return "failover: runs ended / held requests restarted", "-", both


async def answers(postgres: str) -> tuple[str, str, str]:
    print("\n4. answers/s (each its own transaction)        one at a time   20 at a time")
    speeds: dict[str, tuple[float, float]] = {}
    for kind in ("sqlite", "postgresql"):
        async with database(kind, postgres) as store:
            await burst(store)
            speeds[kind] = (await rate(store, 3000, 1), await rate(store, 3000, 20))
        print(f"   {kind:44s} {speeds[kind][0]:13.0f}   {speeds[kind][1]:12.0f}")
    sqlite, pg = speeds["sqlite"], speeds["postgresql"]
    return "answers/s, one at a time / 20 at a time", f"{sqlite[0]:.0f} / {sqlite[1]:.0f} (SQLite)", (
        f"{pg[0]:.0f} / {pg[1]:.0f} (PostgreSQL)"
    )


if __name__ == "__main__":
    asyncio.run(main())
