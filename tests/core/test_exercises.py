"""Exercises: the lesson format's `exercises:` (validated with file:line errors), names found on the syntax tree,
grading a real run part by part, and `lessons check` running each exercise's solution and starting code."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from bot.core.catalog import Catalog
from bot.core.check import check_lessons
from bot.core.errors import UnknownLesson
from bot.core.exercises import UnknownExercise, find_exercise, grade, names_used, uses
from bot.core.lessons import Exercise, Lesson
from bot.core.record import RunRecord
from bot.core.runner import Runner, RunnerLimits

pytestmark = pytest.mark.timeout(90)

LESSON = """\
id: overlap
title: {en: Overlap, zh-CN: 重叠}
examples:
  - id: seq
    code: print("x")
exercises:
  - id: fast
    title: {en: Three downloads in 0.3 s, zh-CN: 0.3 秒完成三次下载}
    goal: {en: Make them overlap., zh-CN: 让它们重叠。}
    starter: |
      import asyncio
      async def dl(n):
          await asyncio.sleep(0.3)
          print("done", n)
      async def main():
          for n in "abc":
              await dl(n)
      asyncio.run(main())
    solution: |
      import asyncio
      async def dl(n):
          await asyncio.sleep(0.3)
          print("done", n)
      async def main():
          tasks = [asyncio.create_task(dl(n)) for n in "abc"]
          for t in tasks:
              await t
      asyncio.run(main())
    check:
      output: [done a, done b, done c]
      elapsed: {seconds: 0.3, tolerance: 0.2}
      must_use: [create_task]
      must_not_use: [time.sleep]
    hints:
      - {en: Start them all first., zh-CN: 先把它们全部启动。}
      - {en: create_task, zh-CN: create_task}
    points: 15
"""


def exercise(**changes: object) -> Exercise:
    data = yaml.safe_load(LESSON)["exercises"][0]
    data.update(changes)
    return Exercise.model_validate(data)


@pytest.fixture
async def runner() -> AsyncIterator[Runner]:
    async with Runner(RunnerLimits(max_concurrent=4, timeout_default=10.0)) as started:
        yield started


async def run(runner: Runner, code: str) -> RunRecord:
    record = RunRecord()
    async for event in runner.run(code, name="fast.py"):
        record.add(event)
    return record


# --- names on the syntax tree ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "rule", "expected"),
    [
        ("import time\ntime.sleep(1)\n", "time.sleep", True),
        ("import time as t\nt.sleep(1)\n", "time.sleep", True),
        ("from time import sleep\nsleep(1)\n", "time.sleep", True),
        ("from time import sleep as nap\nnap(1)\n", "time.sleep", True),
        ("import asyncio\nasyncio.sleep(1)\n", "time.sleep", False),
        ("# time.sleep(1)\nx = 'time.sleep'\n", "time.sleep", False),  # comments and strings are not code
        ("import asyncio\nasyncio.create_task(f())\n", "create_task", True),
        ("async def f(tg):\n    tg.create_task(g())\n", "create_task", True),
        ("import asyncio\nasyncio.get_running_loop().create_task(g())\n", "create_task", True),
        ("from asyncio import create_task\n", "create_task", True),
        ("import asyncio\nasyncio.gather()\n", "asyncio.gather", True),
        ("from asyncio import gather\ngather()\n", "asyncio.gather", True),
        ("import asyncio\nasyncio.wait_for(x, 1)\n", "asyncio.gather", False),
    ],
)
def test_names_used_resolve_imports(code: str, rule: str, expected: bool) -> None:
    found = names_used(code)
    assert found is not None
    assert uses(found, rule) is expected


def test_code_that_does_not_parse_has_no_names() -> None:
    assert names_used("def (:\n") is None
    assert names_used("x = 1\0") is None


async def test_grading_a_real_run_part_by_part(runner: Runner) -> None:
    ex = exercise()
    good = grade(ex, await run(runner, ex.solution), ex.solution)
    assert good.passed, good
    assert [p.kind for p in good.parts] == ["status", "elapsed", "output", "must_use", "must_not_use"]
    assert [p.name for p in good.parts][3:] == ["create_task", "time.sleep"]
    slow = grade(ex, await run(runner, ex.starter), ex.starter)
    assert not slow.passed
    assert {(p.kind, p.name) for p in slow.failed} == {("elapsed", ""), ("must_use", "create_task")}
    blocking = ex.solution.replace("await asyncio.sleep(0.3)", "import time; time.sleep(0.1)")
    blocked = grade(ex, await run(runner, blocking), blocking)
    assert {(p.kind, p.name) for p in blocked.failed} == {("must_not_use", "time.sleep")}
    broken = "import asyncio\nprint('done a'\n"
    failed = grade(ex, await run(runner, broken), broken)
    assert failed.syntax_error
    assert {p.kind for p in failed.failed} == {"status", "elapsed", "output", "must_use", "must_not_use"}


def test_the_format_refuses_contradictions_and_bad_names() -> None:
    with pytest.raises(ValueError, match="both in must_use and in must_not_use"):
        exercise(check={"must_use": ["time.sleep"], "must_not_use": ["time.sleep"]})
    with pytest.raises(ValueError, match="should match pattern"):
        exercise(check={"must_use": ["time sleep"]})
    with pytest.raises(ValueError, match="syntax error in the code, its line 2"):
        exercise(starter="x = 1\ny = (\n")


async def test_lessons_check_runs_solution_and_starter(tmp_path: Path, runner: Runner) -> None:
    (tmp_path / "overlap.yaml").write_text(LESSON, encoding="utf-8")
    broken = LESSON.replace("tasks = [asyncio.create_task(dl(n)) for n in \"abc\"]", 'tasks = [dl(n) for n in "abc"]')
    broken = broken.replace("id: overlap", "id: broken-solution")
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")
    easy = LESSON.replace("id: overlap", "id: easy-starter").replace("must_use: [create_task]", "must_use: []")
    easy = easy.replace("      elapsed: {seconds: 0.3, tolerance: 0.2}\n", "")
    (tmp_path / "easy.yaml").write_text(easy, encoding="utf-8")
    lines: list[str] = []
    summary = await check_lessons(Catalog(tmp_path), runner, out=lines.append)
    by_name = {line.split()[1]: line for line in lines if line.startswith(("PASS", "FAIL"))}
    assert by_name["overlap/exercise/fast"].startswith("PASS"), lines
    assert "the starting code fails: elapsed, must_use create_task" in by_name["overlap/exercise/fast"]
    assert by_name["broken-solution/exercise/fast"].startswith("FAIL")
    assert "the solution fails the check" in by_name["broken-solution/exercise/fast"]
    assert "does not use create_task" in by_name["broken-solution/exercise/fast"]
    assert "the starting code already passes" in by_name["easy-starter/exercise/fast"]
    assert summary.failed == 2 and summary.load_errors == 0


def test_a_yaml_mistake_in_an_exercise_names_its_line(tmp_path: Path) -> None:
    bad = LESSON.replace("      must_not_use: [time.sleep]\n", "      must_not_use: [time.sleep]\n      mustuse: [x]\n")
    (tmp_path / "bad.yaml").write_text(bad, encoding="utf-8")
    report = Catalog(tmp_path).load()
    [error] = report.errors
    assert error.line == 34 and "mustuse" in str(error) and "did you mean 'must_use'" in str(error)


def test_find_exercise() -> None:
    lesson = Lesson.model_validate(yaml.safe_load(textwrap.dedent(LESSON)))
    assert find_exercise([lesson], "overlap", None)[1].id == "fast"
    assert find_exercise([lesson], "overlap", "fast")[1].points == 15
    with pytest.raises(UnknownExercise) as unknown:
        find_exercise([lesson], "overlap", "slow")
    assert unknown.value.params["known"] == ["fast"]
    with pytest.raises(UnknownLesson):
        find_exercise([lesson], "nope", None)
