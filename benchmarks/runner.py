"""Runner figures: warm-worker start vs a fresh interpreter, and 1/50/200 concurrent two-task runs.

    python -m benchmarks.runner [--sandbox auto|off] [--samples 40] [--no-layers] [--burst-layers] [--no-versions]

The warm start is also measured on every interpreter the runner found (`runner.pythons: auto`: the bot's own,
pyenv's, python3.N on PATH), each with its own warm worker in the same containment, against a fresh start of
that interpreter.

It also prices each isolation layer (cgroup per run, private namespaces, seccomp): the warm start with each
switched off in turn (`--no-layers` skips that); `--burst-layers` repeats the 200-run burst with all three off.

Targets: warm overhead <= 5 ms median and >= 10x faster than fresh; at 200 concurrent <= 1.5 s wall,
child timing error <= 5 ms, parent loop lag <= 20 ms.  The machine may be shared: rerun when noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bot.config import RunnerSettings
from bot.core.events import Finished, Output
from bot.core.runner import Runner, RunnerLimits
from bot.core.runner.limits import Mode, Pythons
from bot.core.runner.sandbox import UID_BLOCK

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


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


GAP = 0.02  # idle time between samples (a bot's runs are not back to back; the worker re-arms its spare)


async def warm_first_output(runner: Runner, samples: int, gap: float = GAP, python: str | None = None) -> list[float]:
    times = []
    for _ in range(samples):
        await asyncio.sleep(gap)
        start = time.perf_counter()
        run = runner.run("print('x')", python=python)
        async for event in run:
            if isinstance(event, Output):
                times.append(time.perf_counter() - start)
        await run.wait()
    return times


async def fresh_first_output(samples: int, python: str = sys.executable) -> list[float]:
    times = []
    for _ in range(samples):
        await asyncio.sleep(GAP)
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            python, "-I", "-u", "-c", "print('x')", stdout=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None
        await proc.stdout.readline()
        times.append(time.perf_counter() - start)
        await proc.wait()
    return times


class Lag:
    def __init__(self) -> None:
        self.worst = 0.0
        self.task = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            self.worst = max(self.worst, time.perf_counter() - before - 0.005)

    async def stop(self) -> float:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        return self.worst


def _status(pid: str) -> dict[str, str]:
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":", 1) for line in f if ":" in line)


def children_memory(uid_base: int) -> tuple[int, float]:
    """(process count, PSS MiB) of live processes with a uid of this runner's block."""
    count, pss = 0, 0.0
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            uid = int(_status(pid.name)["Uid"].split()[0])
            if not uid_base <= uid < uid_base + UID_BLOCK:
                continue
            with open(f"/proc/{pid.name}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1]) / 1024
                        count += 1
        except (OSError, KeyError, ValueError):
            continue
    return count, pss


async def sample_memory(uid_base: int) -> tuple[int, float]:
    """`children_memory` in a process of its own: scanning /proc in our loop would show up as its lag."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--memory-of-uids", str(uid_base), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    count, pss = out.split()
    return int(count), float(pss)


async def concurrent(runner: Runner, n: int) -> dict[str, float]:
    lag = Lag()
    start = time.perf_counter()
    runs = [runner.run(TWO_TASKS, name="two-tasks.py") for _ in range(n)]
    await asyncio.sleep(0.6)
    uid_base = runner.host.uids.base if runner.host.uids else -1
    procs, pss = await sample_memory(uid_base)
    errors = []
    ok = 0
    for run in runs:
        async for event in run:
            if isinstance(event, Output):
                errors.append(abs(event.t - 1.0))
            elif isinstance(event, Finished) and event.status == "ok":
                ok += 1
    wall = time.perf_counter() - start
    return {
        "n": n,
        "ok": ok,
        "wall": wall,
        "err_ms": max(errors) * 1000 if errors else float("nan"),
        "lag_ms": (await lag.stop()) * 1000,
        "procs": procs,
        "pss": pss,
        "rss": int(_status("self")["VmRSS"].split()[0]) / 1024,
    }


@dataclass(frozen=True)
class Layers:
    """The isolation layers a run gets (a service keeps all three; the settings do not offer switching them)."""

    cgroups: Mode = "auto"
    namespaces: bool = True
    seccomp: bool = True


LAYERS: list[tuple[str, Layers]] = [
    ("all layers (default)", Layers()),
    ("without cgroups", Layers(cgroups="off")),
    ("without namespaces", Layers(namespaces=False)),
    ("without seccomp", Layers(seccomp=False)),
    ("bubblewrap + rlimits only", Layers(cgroups="off", namespaces=False, seccomp=False)),
]


def limits(args: argparse.Namespace, layers: Layers = Layers(), pythons: Pythons = ()) -> RunnerLimits:
    """The runner's limits as a service builds them (`settings.runner.limits()`), with `layers` switched and the
    interpreters given (default: the bot's own only)."""
    settings = RunnerSettings(sandbox=args.sandbox, max_concurrent=200, queue_size=200, per_user=1000)
    base = replace(settings.limits(), cgroups=layers.cgroups, namespaces=layers.namespaces, seccomp=layers.seccomp)
    return replace(base, pythons=pythons)


async def per_version(runner: Runner, samples: int) -> None:
    """The warm start on each interpreter's worker (same containment), and a fresh start of that interpreter."""
    pythons = runner.pythons
    print(f"\nwarm start per Python version (ms; {GAP * 1000:.0f} ms idle / back to back)")
    print(f"  {'python':12s} {'median':>7s} {'p90':>7s} {'b2b med':>8s} {'fresh med':>10s}  speed-up")
    for version in pythons.versions:
        await warm_first_output(runner, 5, python=version)  # warm-up
        warm = await warm_first_output(runner, samples, python=version)
        burst = await warm_first_output(runner, samples, gap=0.0, python=version)
        fresh = await fresh_first_output(samples, runner.workers.engine(version).python.executable)
        median = statistics.median(warm)
        print(
            f"  {pythons.release(version):12s} {median * 1000:7.2f} {pct(warm, 0.9) * 1000:7.2f} "
            f"{statistics.median(burst) * 1000:8.2f} {statistics.median(fresh) * 1000:10.2f}"
            f"  {statistics.median(fresh) / median:7.1f}x"
        )
    for missing in pythons.unavailable:
        print(f"  {missing.name:12s} unavailable: {missing.reason}")


async def layer_costs(args: argparse.Namespace) -> None:
    """Warm start with each isolation layer switched off in turn: what each one costs per run."""
    rows = []
    for label, layers in LAYERS:
        async with Runner(limits(args, layers)) as runner:
            await warm_first_output(runner, 5)
            values = await warm_first_output(runner, args.samples)
            burst = await warm_first_output(runner, args.samples, gap=0.0)
            rows.append((label, runner.describe(), values, burst))
    base = statistics.median(rows[-1][2])
    print(f"\nisolation layers: time to first output (ms; {GAP * 1000:.0f} ms idle / back to back)")
    print(f"  {'configuration':28s} {'median':>7s} {'p90':>7s} {'b2b med':>8s}  {'vs none':>8s}")
    for label, _, values, burst in rows:
        median = statistics.median(values)
        print(
            f"  {label:28s} {median * 1000:7.2f} {pct(values, 0.9) * 1000:7.2f} "
            f"{statistics.median(burst) * 1000:8.2f}  {(median - base) * 1000:+8.2f}"
        )
    for label, described, _, _ in rows:
        print(f"    {label}: {described}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sandbox", default="auto", choices=["auto", "off", "required"])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument(
        "--layers", action=argparse.BooleanOptionalAction, default=True, help="price each isolation layer (warm start)"
    )
    parser.add_argument("--burst-layers", action="store_true", help="also run the 200 burst with no layers")
    parser.add_argument(
        "--versions", action=argparse.BooleanOptionalAction, default=True, help="warm start on every Python found"
    )
    parser.add_argument("--memory-of-uids", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_of_uids is not None:
        print(*children_memory(args.memory_of_uids))
        return
    async with Runner(limits(args, pythons="auto" if args.versions else ())) as runner:
        print(f"runner: {runner.describe()}  python {sys.version.split()[0]}")
        await warm_first_output(runner, 5)  # warm-up
        warm = await warm_first_output(runner, args.samples)
        burst = await warm_first_output(runner, args.samples, gap=0.0)
        fresh = await fresh_first_output(args.samples)
        print(f"\ntime to first output (ms, {GAP * 1000:.0f} ms idle between runs)   median     p90")
        for label, values in (
            ("warm worker (pre-forked)", warm),
            ("warm worker, back to back", burst),
            (f"fresh {Path(sys.executable).name} -I -u", fresh),
        ):
            print(f"  {label:40s} {statistics.median(values) * 1000:7.2f} {pct(values, 0.9) * 1000:7.2f}")
        print(f"  speed-up (fresh / warm){statistics.median(fresh) / statistics.median(warm):24.1f}x")
        if args.versions:
            await per_version(runner, args.samples)
        print("\nconcurrent two-task runs (ideal: both lines at +1.000 s)")
        await bursts(runner)
    if args.burst_layers:
        async with Runner(limits(args, LAYERS[-1][1])) as bare:
            print(f"\nthe same without cgroups, namespaces and seccomp ({bare.describe()})")
            await bursts(bare)
    if args.layers:
        await layer_costs(args)
    print("\ntargets: warm <= 5 ms and >= 10x fresh; n=200: wall <= 1.5 s, err <= 5 ms, lag <= 20 ms")


async def bursts(runner: Runner) -> None:
    print("      n   ok   wall s  max err ms  loop lag ms  children  children PSS MiB  parent RSS MiB")
    for n in (1, 50, 200):
        r = await concurrent(runner, n)
        print(
            f"  {r['n']:5d} {r['ok']:4d} {r['wall']:8.3f} {r['err_ms']:11.2f} {r['lag_ms']:12.2f}"
            f" {r['procs']:9d} {r['pss']:16.1f} {r['rss']:15.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
