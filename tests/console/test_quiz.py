"""The console quiz, driven with scripted input: real catalog, real runner, real SQLite file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from bot.config import RunnerSettings
from bot.console import ConsoleApp
from bot.core.catalog import Catalog
from bot.core.lessons import PredictOutputQuestion
from bot.core.quiz import offered_lines
from bot.core.runner import Runner
from bot.storage.sqlite import SqliteStorage

LESSON = """\
id: overlap
title: {en: Overlap, zh-CN: 重叠}
examples:
  - id: two-tasks
    code: |
      import asyncio

      async def say(what):
          await asyncio.sleep(0.4)
          print(what)

      async def main():
          await asyncio.gather(say("Hello"), say("World"))
          print("done")

      asyncio.run(main())
    expect:
      output: [Hello, World, done]
      elapsed: {seconds: 0.4, tolerance: 0.3}
quiz:
  - id: how-long
    type: predict_time
    prompt: {en: How long does it take?, zh-CN: 需要多久？}
    explanation: {en: The sleeps overlap., zh-CN: 两次等待重叠。}
    choices: [0.4, 0.8]
    answer: 0.4
    example: two-tasks
    hints: [{text: {en: gather runs them together, zh-CN: gather 让它们一起运行}, cost: 4}]
  - id: order
    type: predict_output
    prompt: Order the lines
    explanation: gather waits for both, then main prints done.
    answer: [Hello, World, done]
    example: two-tasks
  - id: keyword
    type: text
    prompt: Which keyword suspends a coroutine?
    explanation: await.
    answers: [await]
"""


@pytest.fixture
async def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "lessons"
    root.mkdir()
    (root / "overlap.yaml").write_text(LESSON, encoding="utf-8")
    catalog = Catalog(root)
    assert catalog.load().ok
    storage = SqliteStorage(tmp_path / "data" / "corobot.sqlite3")
    await storage.open()
    async with Runner(RunnerSettings().limits()) as runner:
        yield catalog, runner, storage
    await storage.close()


async def _session(catalog, runner, storage, script: str) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    app = ConsoleApp(
        catalog,
        runner,
        console=Console(file=out, width=100, color_system=None),
        stdin=io.StringIO(script),
        storage=storage,
    )
    assert await app.run() == 0
    return out.getvalue()


async def test_quiz_predict_then_run_scores_and_stores(setup) -> None:  # type: ignore[no-untyped-def]
    catalog, runner, storage = setup
    question = catalog.get("overlap").quiz[1]
    assert isinstance(question, PredictOutputQuestion)
    shown = offered_lines(question)
    order = " ".join(str(shown.index(line) + 1) for line in ["Hello", "World", "done"])
    seen = await _session(catalog, runner, storage, f"quiz overlap\n9\nhint\n1\n{order}\nyield\nprogress\n")
    assert "'9' is not an answer here: type numbers from 1 to 2" in seen  # 9 is refused, then answered
    assert "hint (−4): gather runs them together" in seen
    assert seen.count("✔ correct") == 2 and seen.count("✘ not quite") == 1
    assert "+6" in seen  # 10 points minus the hint
    # predict, then run: the real output with its times, and the real elapsed time
    assert "running overlap/two-tasks to check" in seen
    assert "  +0.4" in seen and "Hello" in seen
    assert "real time: 0." in seen
    assert "score: 16 points, 2/3 correct" in seen
    assert "quiz answers 3, accuracy 67%, points 16" in seen
    progress = await storage.progress(0, 0)
    assert progress.lessons_completed == ["overlap"]


async def test_unknown_quiz_lesson_and_runs_count_in_progress(setup) -> None:  # type: ignore[no-untyped-def]
    catalog, runner, storage = setup
    seen = await _session(catalog, runner, storage, "quiz nosuch\nrun overlap\nprogress\n")
    assert "unknown lesson 'nosuch'" in seen
    assert "examples run 1 (1 ok)" in seen
