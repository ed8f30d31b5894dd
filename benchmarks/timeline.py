"""Timeline figures: what measuring run segments costs a switch-heavy program, and what drawing costs.

    python -m benchmarks.timeline [--rounds 9] [--renders 60]

1. **Harness overhead.**  Programs that make 10,000 task switches run in forked children, alternately:
   plain Python (no harness), the harness with run segments switched off (what the harness cost before:
   callback timing, task events, output), and the full harness.  Each program times its own switching with
   `time.perf_counter` and prints it; the figure is the median of `--rounds` runs each, and the overhead of the
   run segments is full / no-segments - 1 (the target: at most 10 %).  Programs:
   * `ping-pong`: two tasks, 5,000 `await asyncio.sleep(0)` each (their steps merge into few segments);
   * `round-robin`: 100 tasks, 100 `sleep(0)` each (every step is a new segment, and its wait's line is read);
   * `queue`: a producer and a consumer passing 5,000 items through `asyncio.Queue(1)`.
2. **Render time.**  Real runs of 10 and of 200 tasks (each sleeping and sharing a semaphore), drawn
   `--renders` times: the text timeline and the PNG, median and p99 in milliseconds, and the PNG's size.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

from bot.config import RunnerSettings
from bot.core.record import RunRecord
from bot.core.runner import Runner
from bot.core.timeline import render_timeline
from bot.core.timeline_image import render_png

CHILD = Path(__file__).resolve().parent.parent / "bot" / "core" / "runner" / "child.py"

PING_PONG = """\
import asyncio, time

async def player():
    for _ in range(5000):
        await asyncio.sleep(0)

async def main():
    start = time.process_time()
    await asyncio.gather(player(), player())
    print(time.process_time() - start)

asyncio.run(main())
"""

ROUND_ROBIN = """\
import asyncio, time

async def worker():
    for _ in range(100):
        await asyncio.sleep(0)

async def main():
    start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(100)))
    print(time.process_time() - start)

asyncio.run(main())
"""

QUEUE = """\
import asyncio, time

async def producer(queue):
    for item in range(5000):
        await queue.put(item)
    await queue.put(None)

async def consumer(queue):
    while await queue.get() is not None:
        pass

async def main():
    queue = asyncio.Queue(1)
    start = time.process_time()
    await asyncio.gather(producer(queue), consumer(queue))
    print(time.process_time() - start)

asyncio.run(main())
"""

PROGRAMS = {"ping-pong": PING_PONG, "round-robin": ROUND_ROBIN, "queue": QUEUE}
MODES = ("plain", "no-segments", "harness")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def load_child() -> ModuleType:
    """The harness as the worker loads it: by path, outside the `bot` package."""
    spec = importlib.util.spec_from_file_location("corobot_child", CHILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_once(child: ModuleType, code: str, mode: str) -> float:
    """Fork, run `code` in `mode`, return the seconds it printed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read)
        try:
            if mode == "plain":
                os.dup2(write, 1)
                sys.stdout = os.fdopen(1, "w", buffering=1)
                exec(compile(code, "bench.py", "exec"), {"__name__": "__main__"})
                sys.stdout.flush()
                os._exit(0)
            harness = child.prepare(measure=mode == "harness")
            child.run_program(harness, code.encode(), "bench.py", write, 1 << 20, 1000)
        finally:
            os._exit(1)
    os.close(write)
    data = b""
    while chunk := os.read(read, 1 << 16):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    if mode == "plain":
        return float(data.decode().split()[-1])
    outs = [json.loads(line) for line in data.splitlines() if b'"k": "out"' in line]
    return float(outs[-1]["x"])


def overhead(rounds: int) -> None:
    child = load_child()
    print(f"harness overhead: 10,000 task switches, median of {rounds} runs each (CPU time the program measured)")
    print(f"{'program':<12} {'plain':>9} {'no segments':>12} {'harness':>9} {'segments cost':>14} {'vs plain':>9}")
    for name, code in PROGRAMS.items():
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(rounds):
            for mode in MODES:  # alternately, so a busy spell on the machine hits every mode alike
                times[mode].append(run_once(child, code, mode))
        plain, bare, full = (statistics.median(times[mode]) for mode in MODES)
        print(
            f"{name:<12} {plain * 1000:>7.1f}ms {bare * 1000:>10.1f}ms {full * 1000:>7.1f}ms"
            f" {(full / bare - 1) * 100:>+13.1f}% {(full / plain - 1) * 100:>+8.1f}%"
        )


def tasks_program(count: int) -> str:
    return f"""\
import asyncio

async def job(n, sem):
    await asyncio.sleep(0.01 * (n % 7))
    async with sem:
        await asyncio.sleep(0.05)
    print("job", n, "done")

async def main():
    sem = asyncio.Semaphore({max(2, count // 4)})
    async with asyncio.TaskGroup() as tg:
        for n in range({count - 1}):
            tg.create_task(job(n, sem), name=f"job-{{n}}")

asyncio.run(main())
"""


async def record(code: str) -> RunRecord:
    async with Runner(RunnerSettings().limits()) as runner:
        result = RunRecord()
        async for event in runner.run(code, name="bench.py"):
            result.add(event)
    return result


def render_times(renders: int) -> None:
    print(f"\nrender time: {renders} renders of a real run each (milliseconds of CPU on this machine)")
    print(f"{'run':<10} {'segments':>9} {'text p50':>9} {'p99':>6} {'PNG p50':>8} {'p99':>6} {'PNG size':>9}")
    for count in (10, 200):
        code = tasks_program(count)
        run = asyncio.run(record(code))
        text, image = [], []
        png = b""
        for _ in range(renders):
            start = time.process_time()
            render_timeline(run, width=56)
            text.append((time.process_time() - start) * 1000)
            start = time.process_time()
            png = render_png(run, source=code, title=f"{count} tasks") or b""
            image.append((time.process_time() - start) * 1000)
        print(
            f"{count:>3} tasks  {len(run.segments):>9} {statistics.median(text):>9.2f} {pct(text, 0.99):>6.2f}"
            f" {statistics.median(image):>8.1f} {pct(image, 0.99):>6.1f} {len(png) / 1024:>7.0f} KB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9, help="runs of each program in each mode")
    parser.add_argument("--renders", type=int, default=60, help="renders of each run")
    args = parser.parse_args(argv)
    overhead(args.rounds)
    render_times(args.renders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
