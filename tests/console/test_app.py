"""The console driven with scripted input, asserting what the user sees.

The catalog is the real one over a temp lessons folder.  Runs use the real runner; most tests use a
scripted stand-in runner (a neighbour) to pin the rendering of every event kind.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from rich.console import Console

from bot.config import RunnerSettings
from bot.console import ConsoleApp, LineReader
from bot.core.catalog import Catalog
from bot.core.events import Event, Finished, LoopBlocked, Output, Queued, Started, Status, TaskEvent
from bot.core.runner import Runner
from bot.core.versions import Pythons

HELLO = """\
id: hello
title: {en: Hello tasks, zh-CN: 你好，任务}
summary: {en: Two tasks sleep together., zh-CN: 两个任务一起睡。}
level: beginner
sections:
  - title: {en: Why it overlaps, zh-CN: 为什么重叠}
    body: {en: "Both tasks **wait** at once.", zh-CN: "两个任务**同时**等待。"}
examples:
  - id: two-tasks
    title: {en: Two tasks, zh-CN: 两个任务}
    code: |
      import asyncio

      async def say(n):
          await asyncio.sleep(0.3)
          print("hello", n)

      async def main():
          a = asyncio.create_task(say(1), name="say-1")
          b = asyncio.create_task(say(2), name="say-2")
          await a
          await b

      asyncio.run(main())
    expect:
      output: [hello 1, hello 2]
      elapsed: {seconds: 0.3, tolerance: 0.5}
  - id: boom
    code: |
      import asyncio
      import sys

      async def main():
          print("about to fail", file=sys.stderr)
          await asyncio.sleep(0.05)
          raise ValueError("boom")

      asyncio.run(main())
    expect: {status: error}
"""

WORLD = """\
id: world
title: World
prerequisites: [hello]
examples:
  - id: only
    code: print("world")
"""


@pytest.fixture
def lessons_dir(tmp_path: Path) -> Path:
    root = tmp_path / "lessons"
    root.mkdir()
    (root / "02-world.yaml").write_text(WORLD, encoding="utf-8")
    (root / "01-hello.yaml").write_text(HELLO, encoding="utf-8")
    return root


@pytest.fixture
def catalog(lessons_dir: Path) -> Catalog:
    catalog = Catalog(lessons_dir)
    report = catalog.load()
    assert report.ok, report.errors
    return catalog


@pytest.fixture
async def runner():  # type: ignore[no-untyped-def]
    async with Runner(RunnerSettings().limits()) as live:
        yield live


class ScriptedRun:
    """A stand-in for a neighbour's Run: yields a fixed list of events."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.cancelled = False

    async def _iterate(self) -> AsyncIterator[Event]:
        for event in self.events:
            yield event

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    def cancel(self) -> None:
        self.cancelled = True


class ScriptedRunner:
    pythons = Pythons.single("3.11.7")

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.calls: list[tuple[str, str]] = []

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
    ) -> ScriptedRun:
        self.calls.append((name, code))
        return ScriptedRun(self.events)

    def run_versions(self, code: str, pythons: list[str], **options: object) -> list[ScriptedRun]:
        raise AssertionError("no comparison with one Python")

    def describe(self) -> str:
        return "scripted runner"


async def test_load_errors_are_shown_at_start(lessons_dir: Path) -> None:
    (lessons_dir / "03-broken.yaml").write_text("id: broken\ntitle: x\nexampels: []\n", encoding="utf-8")
    catalog = Catalog(lessons_dir)
    catalog.load()
    seen = await _session(catalog, ScriptedRunner([]), "list\n")
    assert re.search(r"\d+ problems? in the lesson files:", seen)
    assert "03-broken.yaml:" in seen
    assert " 1. hello" in seen  # the good lessons still work


async def _session(catalog: Catalog, runner: object, script: str, locale: str | None = None) -> str:
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, force_terminal=False)
    app = ConsoleApp(catalog, runner, console=console, stdin=io.StringIO(script), locale=locale)  # type: ignore[arg-type]
    assert await app.run() == 0
    return out.getvalue()


def _lines_between(text: str, start: str, stop: str) -> Iterator[str]:
    inside = False
    for line in text.splitlines():
        if start in line:
            inside = True
        elif stop in line and inside:
            return
        elif inside:
            yield line


async def test_list_show_help_and_quit(catalog: Catalog) -> None:
    seen = await _session(catalog, ScriptedRunner([]), "help\nlist\nshow 1\nquit\nlist\n")
    assert "problem" not in seen
    assert "run ID[/EXAMPLE]" in seen
    assert re.search(r" 1\. hello\s+Hello tasks", seen)
    assert re.search(r" 2\. world\s+World", seen)  # the prerequisite comes first
    assert "Why it overlaps" in seen and "Both tasks wait at once." in seen
    assert 'asyncio.create_task(say(1), name="say-1")' in seen  # the code, highlighted by Syntax
    assert "run hello/two-tasks" in seen
    assert seen.count("about to fail") == 1  # the boom example's code is shown once; nothing ran
    assert seen.rstrip().endswith("bye")
    assert seen.count(" 2. world") == 1  # the `list` after `quit` never ran


async def test_show_in_another_locale_falls_back_to_english(catalog: Catalog) -> None:
    seen = await _session(catalog, ScriptedRunner([]), "show hello\nshow world\n", locale="zh-CN")
    assert "你好，任务" in seen and "两个任务同时等待。" in seen
    assert "World" in seen  # the world lesson has only English: fallback


async def test_unknown_ids_suggest_close_matches(catalog: Catalog) -> None:
    seen = await _session(catalog, ScriptedRunner([]), "show helo\nrun hello/two-task\nrun 9\nfrobnicate\n")
    assert "unknown lesson 'helo'; did you mean: hello?" in seen
    assert "lesson 'hello' has no example 'two-task'; its examples: two-tasks" in seen
    assert "unknown lesson '9'" in seen
    assert "unknown command 'frobnicate'" in seen


async def test_eof_exits_cleanly(catalog: Catalog) -> None:
    seen = await _session(catalog, ScriptedRunner([]), "list")  # no newline, then EOF
    assert " 1. hello" in seen and seen.rstrip().endswith("bye")


async def test_run_renders_every_event_kind(catalog: Catalog) -> None:
    events: list[Event] = [
        Queued(2),
        Queued(1),
        Started(),
        TaskEvent("main", "created", 0.0, 1),
        TaskEvent("say-1", "created", 0.001, 2),
        TaskEvent("say-2", "created", 0.001, 3),
        Output("stderr", "careful", 0.002),
        LoopBlocked(0.12, 0.1, line=7),
        Output("stdout", "hello 1", 0.302),
        Output("stdout", "hello 2", 0.303),
        Output("stdout", "[bold]not markup[/bold] " + "y" * 150, 0.303),
        TaskEvent("say-1", "done", 0.302, 2),
        TaskEvent("say-2", "done", 0.303, 3),
        TaskEvent("main", "done", 0.304, 1),
        Finished(Status.OK, 0.305),
    ]
    runner = ScriptedRunner(events)
    seen = await _session(catalog, runner, "run 1/1\n")
    assert runner.calls and runner.calls[0][0] == "two-tasks.py"
    assert "queued: 1 run ahead of you" in seen and "queued: you are next" in seen
    assert "+0.302s  hello 1" in seen and "+0.303s  hello 2" in seen
    assert "+0.002s  [stderr] careful" in seen
    assert "+0.303s  [bold]not markup[/bold] " + "y" * 150 + "\n" in seen  # verbatim, one line, 100 columns
    assert "+0.220s  event loop was blocked for 120 ms since +0.100s (line 7)" in seen
    assert "status: ok in 0.305 s" in seen
    assert "expected ≈ 0.3 s ± 0.5: ok" in seen
    assert "output has 1 extra line, from " in seen
    timeline = list(_lines_between(seen, "timeline", "corobot>"))
    assert any(line.startswith("say-1") for line in timeline), seen
    assert all(len(line) <= 60 for line in timeline)


async def test_run_for_real(catalog: Catalog, runner) -> None:  # type: ignore[no-untyped-def]
    seen = await _session(catalog, runner, "run hello/two-tasks\nrun hello/boom\n")
    stamps = re.findall(r"\+(\d+\.\d{3})s  hello (\d)", seen)
    assert [n for _, n in stamps] == ["1", "2"], seen
    assert all(0.2 < float(t) < 2.0 for t, _ in stamps)
    assert "status: ok" in seen and "expected ≈ 0.3 s ± 0.5: ok" in seen
    assert "say-1" in seen and "say-2" in seen  # timeline rows
    assert "[stderr] about to fail" in seen
    assert "status: error" in seen and "ValueError" in seen and "boom" in seen


async def test_line_reader_reads_then_stays_at_eof() -> None:
    reader = LineReader(io.StringIO("one\r\ntwo\n"))
    assert [await reader.readline(), await reader.readline()] == ["one", "two"]
    assert await reader.readline() is None
    assert await reader.readline() is None


def test_summary_timeline_fits_a_narrow_terminal() -> None:
    from bot.console.render import print_summary
    from bot.core.record import RunRecord

    events: list[Event] = [
        Started(),
        TaskEvent("main", "created", 0.0, 1),
        TaskEvent("worker-with-a-long-name", "created", 0.1, 2),
        TaskEvent("worker-with-a-long-name", "cancelled", 0.6, 2),
        TaskEvent("main", "done", 1.0, 1),
        Finished(Status.OK, 1.0),
    ]
    for width, limit in ((40, 40), (120, 60)):
        out = io.StringIO()
        print_summary(Console(file=out, width=width, color_system=None), RunRecord.from_events(events), None, None)
        timeline = list(_lines_between(out.getvalue() + "corobot>", "timeline", "corobot>"))
        assert any(line.startswith("main") for line in timeline)
        assert max(len(line) for line in timeline) <= limit, out.getvalue()
        assert any(len(line) > limit - 5 for line in timeline)  # uses the room it has


async def test_the_console_s_own_labels_follow_the_locale(catalog: Catalog) -> None:
    events: list[Event] = [
        Queued(2),
        Started(),
        TaskEvent("main", "created", 0.0, 1),
        LoopBlocked(0.12, 0.1, line=7),
        Output("stdout", "hello 1", 0.302),
        TaskEvent("main", "done", 0.304, 1),
        Finished(Status.OK, 0.305),
    ]
    seen = await _session(catalog, ScriptedRunner(events), "help\nrun 1/1\nshow 1\nfrobnicate\nshow helo\n", "zh-CN")
    assert "命令：" in seen and "list                 按先修顺序列出编号的课程" in seen
    assert "排队中：前面还有 1 个运行" in seen and "事件循环自 +0.100s（第 7 行）起被阻塞了 120 毫秒" in seen
    assert "状态：ok，用时 0.305 秒" in seen and "预期约 0.3 秒 ± 0.5：符合" in seen
    assert "输出在第 2 行不同" not in seen and "输出提前结束：预期 2 行，实际 1 行" in seen
    assert "时间线" in seen and "▓ 事件循环被阻塞" in seen
    assert "示例 1：" in seen and "未知命令 'frobnicate'" in seen and "未知课程 'helo'；你是不是要找：hello？" in seen
    assert seen.rstrip().endswith("再见")
    for english in ("status:", "expected", "timeline\n", "unknown command", "bye"):
        assert english not in seen, english
