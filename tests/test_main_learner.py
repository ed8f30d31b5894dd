"""`corobot try FILE` and `corobot exercise LESSON/ID [FILE]` as real processes: learner code in the terminal,
through the same gate (size limit, timeout, the log by hash) and the same grading (points once) as on Discord."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.test_exercises import LESSON
from tests.test_main import corobot

pytestmark = pytest.mark.timeout(120)

ASKS = """\
import asyncio

async def main():
    name = input()
    await asyncio.sleep(0.2)
    print('hello', name)

asyncio.run(main())
"""


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "overlap.yaml").write_text(LESSON, encoding="utf-8")
    (tmp_path / "asks.py").write_text(ASKS, encoding="utf-8")
    (tmp_path / "name.txt").write_text("Ada\n", encoding="utf-8")
    return tmp_path


def test_try_runs_a_file_with_input_and_its_timeline(workdir: Path) -> None:
    done = corobot(workdir, "try", "asks.py", "--stdin", "name.txt")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "▶ asks.py  (learner code: your own program, not a lesson example)" in out
    assert "s  hello Ada" in out and "status: ok in" in out and "timeline" in out and "main" in out
    piped = corobot(workdir, "try", "-", stdin="print('from a pipe')\n")
    assert piped.returncode == 0 and "s  from a pipe" in piped.stdout


def test_try_without_input_explains_the_eoferror_in_chinese(workdir: Path) -> None:
    done = corobot(workdir, "--locale", "zh-CN", "try", "asks.py")
    assert done.returncode == 1
    assert "EOFError" in done.stdout and "--stdin FILE" in done.stdout and "没有收到任何输入" in done.stdout


def test_try_refuses_what_cannot_run(workdir: Path) -> None:
    missing = corobot(workdir, "try", "nope.py")
    assert missing.returncode == 2 and "cannot read the program 'nope.py'" in missing.stderr
    (workdir / "big.py").write_text("x = 1\n" * 800, encoding="utf-8")
    big = corobot(workdir, "try", "big.py")
    assert big.returncode == 2 and "Your code is 4800 characters long; the limit is 4000" in big.stderr
    assert "Traceback" not in big.stderr


def test_exercise_shows_the_task_then_grades_wrong_and_right_with_points_once(workdir: Path) -> None:
    shown = corobot(workdir, "exercise", "overlap")
    assert shown.returncode == 0, shown.stderr
    assert "Exercise: Three downloads in 0.3 s" in shown.stdout and "await dl(n)" in shown.stdout
    assert "corobot exercise overlap/fast FILE" in shown.stdout

    starter = workdir / "starter.py"
    starter.write_text(LESSON.split("starter: |\n")[1].split("    solution:")[0].replace("\n      ", "\n")[6:])
    wrong = corobot(workdir, "exercise", "overlap/fast", "starter.py")
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "✗ uses create_task" in wrong.stdout and "✓ does not use time.sleep" in wrong.stdout
    assert "Not yet: 2 of 5 checks failed." in wrong.stdout and "Hint 1/2: Start them all first." in wrong.stdout

    solution = workdir / "solution.py"
    solution.write_text(LESSON.split("solution: |\n")[1].split("    check:")[0].replace("\n      ", "\n")[6:])
    right = corobot(workdir, "exercise", "overlap/fast", "solution.py")
    assert right.returncode == 0, right.stdout + right.stderr
    assert "Passed! +15 points." in right.stdout
    again = corobot(workdir, "exercise", "overlap/fast", "solution.py")
    assert again.returncode == 0 and "Passed again (the points were counted the first time)." in again.stdout


def test_an_unknown_exercise_is_one_clear_line(workdir: Path) -> None:
    done = corobot(workdir, "exercise", "overlap/slow")
    assert done.returncode == 2
    expected = "corobot: Lesson 'overlap' has no exercise 'slow'. Its exercises: 'fast'."
    assert done.stderr.strip().splitlines() == [expected]
