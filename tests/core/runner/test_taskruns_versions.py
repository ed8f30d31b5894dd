"""The run-segment harness on every interpreter corobot runs programs with (3.11, 3.12, 3.13).

A task's step and wake-up callbacks, eager tasks (3.12+: the first step runs inside `create_task`, and
`Task.get_coro()` on an eagerly completed task crashes 3.12.1, CPython gh-122332) differ between versions, so
the harness runs here under each interpreter found, loaded by path as the worker loads it, in a forked child
writing to a pipe: the messages are read back and checked.  An interpreter that is not installed is skipped
(`COROBOT_TEST_PYTHONS`, colon-separated, overrides the list).
"""

from __future__ import annotations

import array
import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHILD = Path(__file__).resolve().parents[3] / "bot" / "core" / "runner" / "child.py"
PYENV = Path.home() / ".pyenv" / "versions"
PYTHONS = os.environ.get("COROBOT_TEST_PYTHONS", "").split(":") if os.environ.get("COROBOT_TEST_PYTHONS") else [
    sys.executable,
    str(PYENV / "3.12.1" / "bin" / "python"),
    str(PYENV / "3.13.0" / "bin" / "python"),
]

TRACE = """\
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("corobot_child", sys.argv[1])
child = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = child
spec.loader.exec_module(child)
program = open(sys.argv[2], "rb").read()
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read)
    child.run_program(child.prepare(), program, "prog.py", write, 1 << 20, 1000)
os.close(write)
data = b""
while chunk := os.read(read, 65536):
    data += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(data.decode())
sys.exit(os.waitstatus_to_exitcode(status) if status else 0)
"""

SLEEP_AND_BLOCK = """\
import asyncio, time

async def sleeper():
    await asyncio.sleep(0.2)

async def blocker():
    await asyncio.sleep(0.05)
    time.sleep(0.1)

async def main():
    await asyncio.gather(asyncio.create_task(sleeper(), name="sleeper"), asyncio.create_task(blocker(), name="blocker"))

asyncio.run(main())
"""

EAGER = """\
import asyncio, time

async def quick():
    time.sleep(0.02)
    return 1

async def slow():
    time.sleep(0.02)
    await asyncio.sleep(0.1)

async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    done = asyncio.create_task(quick(), name="quick")   # completes inside create_task
    parked = asyncio.create_task(slow())                 # unnamed: shown by its coroutine's name
    await done
    await parked

asyncio.run(main())
"""


def interpreter(path: str) -> str:
    if not Path(path).is_file():
        pytest.skip(f"{path} is not installed")
    return path


def trace(python: str, code: str, tmp_path: Path) -> tuple[int, list[dict[str, Any]]]:
    script, program = tmp_path / "trace.py", tmp_path / "prog.py"
    script.write_text(TRACE)
    program.write_text(code)
    done = subprocess.run([python, str(script), str(CHILD), str(program)], capture_output=True, timeout=60)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def segments(messages: list[dict[str, Any]]) -> dict[str, list[tuple[float, float, float, int]]]:
    """Task name -> (start, end, busy, line) per segment, times relative to the program's start."""
    t0 = next(m["t0"] for m in messages if m["k"] == "start")
    names = {m["i"]: m["n"] for m in messages if m["k"] == "task"}
    found: dict[str, list[tuple[float, float, float, int]]] = {}
    for message in messages:
        if message["k"] == "seg":
            values = array.array("d", base64.b64decode(message["b"]))
            for at in range(0, len(values), 5):
                task, start, end, busy, line = values[at : at + 5]
                found.setdefault(names[int(task)], []).append((start - t0, end - t0, busy, int(line)))
    return found


def created(messages: list[dict[str, Any]], name: str) -> float:
    return next(m["t"] for m in messages if m["k"] == "task" and m["n"] == name and m["e"] == "created")


@pytest.mark.parametrize("python", PYTHONS)
def test_steps_wake_ups_and_blocks_are_charged_to_their_task(python: str, tmp_path: Path) -> None:
    status, messages = trace(interpreter(python), SLEEP_AND_BLOCK, tmp_path)
    assert status == 0, messages
    runs = segments(messages)
    assert [line for *_, line in runs["sleeper"]] == [0, 4]  # first step; woke up from `await asyncio.sleep`
    assert runs["sleeper"][1][0] - runs["sleeper"][0][1] > 0.15
    blocking = max(runs["blocker"], key=lambda s: s[2])
    assert blocking[2] > 0.09 and blocking[3] == 7  # the time.sleep(0.1) step, after the wait at line 7
    assert {m["k"] for m in messages} >= {"start", "task", "seg", "blocked"}


@pytest.mark.parametrize("python", PYTHONS)
def test_eager_tasks_run_their_first_step_inside_create_task(python: str, tmp_path: Path) -> None:
    version = subprocess.run([interpreter(python), "-c", "import sys; print(sys.version_info[1])"], capture_output=True)
    if int(version.stdout) < 12:
        pytest.skip("eager tasks are new in 3.12")
    status, messages = trace(python, EAGER, tmp_path)
    assert status == 0, messages  # no crash on an eagerly completed task (3.12.1)
    runs = segments(messages)
    names = {m["n"] for m in messages if m["k"] == "task"}
    assert {"main", "quick"} <= names and ("slow" in names or "None" in names)  # 3.13.0 names it "None"
    slow = "slow" if "slow" in names else "None"
    for name in ("quick", slow):
        start, _, busy, _ = runs[name][0]
        assert abs(start - created(messages, name)) < 0.005 and busy > 0.015  # its time.sleep(0.02), eagerly
    # main ran create_task twice meanwhile, but is not charged for its children's eager steps
    main_busy = sum(busy for _, _, busy, _ in runs["main"])
    assert main_busy < 0.015, runs["main"]
    assert [line for *_, line in runs[slow]][-1] == 9  # woke up from `await asyncio.sleep(0.1)`
