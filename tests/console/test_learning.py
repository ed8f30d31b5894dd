"""The console's review, path, streak, timezone and forget-me commands, driven with scripted input: real
catalog, real runner, real SQLite file, and a clock the test moves between sessions (a restart each time)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from bot.config import RunnerSettings
from bot.console import ConsoleApp
from bot.core.catalog import Catalog
from bot.core.review.cards import ScheduleSettings
from bot.core.review.service import Learning, LearningSettings
from bot.core.runner import Runner
from bot.storage.sqlite import SqliteStorage
from tests.core.review.conftest import Clock

LESSON = """\
id: overlap
title: Overlap
tags: [gather]
examples:
  - id: two-tasks
    code: |
      import asyncio

      async def say(what):
          await asyncio.sleep(0.2)
          print(what)

      async def main():
          await asyncio.gather(say("Hello"), say("World"))

      asyncio.run(main())
quiz:
  - id: how-long
    type: predict_time
    prompt: How long does it take?
    explanation: The sleeps overlap.
    choices: [0.2, 0.4]
    answer: 0.2
    example: two-tasks
  - id: keyword
    type: text
    prompt: Which keyword suspends a coroutine?
    explanation: await.
    answers: [await]
    hints: [{text: "four letters, starts with a", cost: 1}]
"""
NEXT = """\
id: after
title: After
prerequisites: [overlap]
examples:
  - id: one
    code: print("hi")
"""


@pytest.fixture
async def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = tmp_path / "lessons"
    root.mkdir()
    (root / "overlap.yaml").write_text(LESSON, encoding="utf-8")
    (root / "after.yaml").write_text(NEXT, encoding="utf-8")
    catalog = Catalog(root)
    assert catalog.load().ok
    async with Runner(RunnerSettings().limits()) as runner:
        yield catalog, runner, tmp_path / "data" / "corobot.sqlite3"


async def session(setup, clock: Clock, script: str) -> str:  # type: ignore[no-untyped-def]
    """One console session from start to end, on a freshly opened database (as after a restart)."""
    catalog, runner, path = setup
    storage = SqliteStorage(path)
    await storage.open()
    try:
        learning = Learning(storage, catalog, LearningSettings(schedule=ScheduleSettings(fuzz=False)), clock=clock)
        out = io.StringIO()
        app = ConsoleApp(catalog, runner, console=Console(file=out, width=120, color_system=None),
                         stdin=io.StringIO(script), storage=storage, learning=learning)
        assert await app.run() == 0
        return out.getvalue()
    finally:
        await storage.close()


async def test_what_you_got_wrong_comes_back_for_review(setup) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    seen = await session(setup, clock, "review\nquiz overlap\n2\nasync\nreview\n")
    assert "nothing to review yet" in seen
    assert seen.count("✘ not quite") == 2
    assert "nothing to review now; the next card is due in 10 minutes" in seen

    clock.advance(11 * 60)
    seen = await session(setup, clock, "review\n1\nhint\nawait\n")
    assert "Review: 2 cards due" in seen
    assert "[overlap]" in seen and "How long does it take?" in seen
    assert "running overlap/two-tasks to check" in seen and "real time: 0.2" in seen  # predict: the real run
    assert "hint: four letters, starts with a" in seen
    assert seen.count("✔ correct") == 2
    assert "comes back in 1 day" in seen  # right: it graduates to days
    assert "comes back in 15 minutes" in seen  # right after a hint (Hard): one more short step first
    assert "reviewed 2 cards, 2 right" in seen

    seen = await session(setup, clock, "review\n")
    assert "nothing to review now; the next card is due in 15 minutes" in seen


async def test_path_streak_timezone(setup) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    seen = await session(setup, clock, "path\n")
    assert "your path: 0 of 2 lessons done" in seen
    assert "next: overlap — it needs nothing before it" in seen
    assert "× after" in seen and "locked; needs overlap" in seen

    seen = await session(setup, clock, "quiz overlap\n1\nawait\nrun overlap\npath\nstreak\n")
    assert "lesson done: overlap" in seen  # the run was the last thing missing
    assert "your path: 1 of 2 lessons done" in seen
    assert "✔ overlap" in seen and "next: after — its prerequisites are done (overlap)" in seen
    assert "streak: 1 day (today counted); best 1; time zone UTC" in seen

    clock.advance(86400)
    seen = await session(setup, clock, "timezone Asia/Shanghia\ntimezone asia/shanghai\ntz\nstreak\n")
    assert "unknown time zone 'Asia/Shanghia'; did you mean 'Asia/Shanghai'" in seen
    assert "time zone set to Asia/Shanghai" in seen and "time zone: Asia/Shanghai" in seen
    assert "streak: 1 day (nothing yet today)" in seen  # yesterday counts until today ends


async def test_forget_me_asks_first_then_deletes_everything(setup) -> None:  # type: ignore[no-untyped-def]
    clock = Clock()
    await session(setup, clock, "quiz overlap\n1\nawait\ntimezone UTC+8\n")
    seen = await session(setup, clock, "forget-me\nno\nstreak\n")
    assert "Type `yes` to confirm" in seen and "kept everything" in seen
    assert "streak: 1 day" in seen
    seen = await session(setup, clock, "forget-me\nyes\nstreak\nprogress\nreview\n")
    assert "forgotten:" in seen and "records deleted" in seen
    assert "streak: 0 days (nothing yet today); best 0; time zone UTC" in seen
    assert "quiz answers 0" in seen
    assert "nothing to review yet" in seen
    _, _, path = setup
    storage = SqliteStorage(path)
    await storage.open()
    try:
        counts = await storage.row_counts()
    finally:
        await storage.close()
    assert {table for table, n in counts.items() if n} == {"review_questions"}  # about the lesson, not the learner
