"""Lesson loading figures: 1,000 lesson files cold and from the cache, change-to-live latency, bad YAML cost.

    python -m benchmarks.lessons_load [--files 1000] [--runs 3] [--edits 20]

Generates `--files` lesson files (copies of the shipped lessons with unique ids and prerequisites, ~17 MB
for 1,000) in a temporary folder, then prints:
- cold load: a new catalog, empty cache (parse + validate every file, writing the cache), and without a
  cache at all;
- warm load: a new catalog over the same files with the cache filled (what every restart after the first
  does);
- a refresh with nothing changed (one pass of the polling fallback);
- change-to-live: a file saved -> the catalog serves the new version, median and p90 over `--edits` edits,
  through inotify and through the polling fallback (interval 1 s);
- what a "billion laughs" file costs now (9 levels of 9 aliases: 9**9 values if expanded).
Targets: cold <= 1.5 s for 1,000 lessons (with the cache), change-to-live <= 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bot.core.catalog import Catalog, LoadReport
from bot.core.errors import LessonError
from bot.core.yamlsource import load_yaml

SHIPPED = Path(__file__).resolve().parents[1] / "lessons"


def renamed(text: str, suffix: str) -> str:
    """A lesson's text with its id and its prerequisites' ids ending in `suffix`."""
    text = re.sub(r"(?m)^id: (\S+)$", rf"id: \1{suffix}", text)
    match = re.search(r"(?m)^prerequisites: \[(.*)\]$", text)
    if match is None:
        return text
    ids = ", ".join(f"{part.strip()}{suffix}" for part in match.group(1).split(",") if part.strip())
    return text[: match.start()] + f"prerequisites: [{ids}]" + text[match.end() :]


def generate(folder: Path, count: int) -> int:
    """`count` copies of the shipped lessons (seed first: prerequisites come before their dependants, so a
    partial last copy is complete too); returns the bytes written."""
    sources = sorted((SHIPPED / "seed").glob("*.yaml")) + sorted((SHIPPED / "course").glob("*.yaml"))
    texts = [path.read_text(encoding="utf-8") for path in sources]
    total = 0
    for n in range(count):
        path, text = sources[n % len(sources)], texts[n % len(sources)]
        copy = n // len(sources)
        data = renamed(text, f"-c{copy}").encode()
        (folder / f"c{copy:03d}-{path.parent.name}-{path.name}").write_bytes(data)
        total += len(data)
    return total


def timed(action: Callable[[], object]) -> float:
    """Seconds `action` takes, from a collected heap, not counting freeing what it returns."""
    gc.collect()
    started = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - started
    del result
    return elapsed


def load(root: Path, cache: Path | None) -> Catalog:
    catalog = Catalog(root, cache_dir=cache)
    report = catalog.load()
    assert report.ok, report.errors[:3]
    return catalog


def spread(values: list[float], unit: float = 1.0, digits: int = 3) -> str:
    values = [v * unit for v in values]
    return f"median {statistics.median(values):.{digits}f} (min {min(values):.{digits}f}, max {max(values):.{digits}f})"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def pick(catalog: Catalog) -> tuple[str, Path, str, str]:
    """A lesson from the middle of the catalog: its id, file, text and title line."""
    lesson = catalog.lessons()[len(catalog) // 2]
    path = catalog.source(lesson.id)
    text = path.read_text(encoding="utf-8")
    title = re.search(r"(?m)^title:.*\n(?:[ ]+.*\n)*", text)  # `title: x`, or `title:` and its indented lines
    assert title is not None
    return lesson.id, path, text, title.group(0)


async def change_to_live(root: Path, edits: int, *, notify: bool) -> list[float]:
    catalog = load(root, None)
    lesson_id, target, original, title = pick(catalog)
    live = asyncio.Event()
    wanted = ""

    def on_change(report: LoadReport) -> None:
        if lesson_id in report.loaded and catalog.get(lesson_id).title.get() == wanted:
            live.set()

    watcher = asyncio.create_task(catalog.watch(interval=1.0, on_change=on_change, notify=notify))
    latencies: list[float] = []
    try:
        for _ in range(1000):  # until the watch is set up (inotify or polling)
            if catalog.watch_mode is not None:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        for n in range(edits):
            wanted = f"Edited {n}"
            live.clear()
            text = original.replace(title, f"title: {wanted}\n", 1)
            started = time.perf_counter()
            target.write_text(text, encoding="utf-8")
            await asyncio.wait_for(live.wait(), 10)
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.15)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        target.write_text(original, encoding="utf-8")
    return latencies


def laughs() -> str:
    lines = ["id: laughs", 'title: &l0 "lol"']
    lines += [f"k{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
    return "\n".join([*lines, "examples: *l9"]) + "\n"


def bad_yaml_cost() -> tuple[float, int, str]:
    text = laughs()
    times = []
    message = ""
    for _ in range(20):
        started = time.perf_counter()
        try:
            load_yaml(text, "laughs.yaml")
        except LessonError as exc:
            message = str(exc)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    with contextlib.suppress(LessonError):
        load_yaml(text, "laughs.yaml")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), peak, message


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="corobot-lessons-") as tmp:
        root = Path(tmp) / "lessons"
        root.mkdir()
        size = generate(root, args.files)
        print(f"{args.files} lesson files, {size / 1e6:.1f} MB, in {root}")
        cold, nocache, warm, refresh = [], [], [], []
        for run in range(args.runs):
            cache = Path(tmp) / f"cache-{run}"
            nocache.append(timed(partial(load, root, None)))
            cold.append(timed(partial(load, root, cache)))
            warm.append(timed(partial(load, root, cache)))
            catalog = load(root, cache)
            refresh.append(timed(catalog.refresh))
        print(f"cold load, empty cache (parse, validate, write cache): {spread(cold)} s")
        print(f"cold load, no cache at all:                             {spread(nocache)} s")
        print(f"warm load, cache filled (every restart after the first): {spread(warm)} s")
        print(f"refresh with nothing changed (one polling pass):        {spread(refresh, 1000, 1)} ms")
        for notify, name in ((True, "inotify"), (False, "polling every 1 s")):
            latencies = asyncio.run(change_to_live(root, args.edits, notify=notify))
            median, p90 = statistics.median(latencies) * 1000, percentile(latencies, 0.9) * 1000
            print(f"change to live, {name}: median {median:.1f} ms, p90 {p90:.1f} ms over {len(latencies)} edits")
    seconds, peak, message = bad_yaml_cost()
    print(f"billion laughs ({len(laughs())} bytes): {seconds * 1000:.2f} ms, peak {peak / 1024:.0f} KiB -> {message}")


if __name__ == "__main__":
    main()
