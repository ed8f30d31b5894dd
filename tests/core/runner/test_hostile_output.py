"""Hostile output and the smaller failures (issue 9, attacks 8 and 9): `--json` stays valid UTF-8, deep
recursion is the program's error, a partial last line survives `os._exit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.events import Status

from .conftest import MakeRunner, collect, lines
from .hostile import assert_next_run_works, hostile_runner, needs_root

pytestmark = pytest.mark.timeout(60)
REPO = Path(__file__).resolve().parents[3]

LESSON = """\
id: hostile
title: Hostile output
level: beginner
sections:
  - title: Why
    body: To check the JSON output.
examples:
  - id: surrogates
    code: |
      import os, sys
      print('lone', chr(0xD800), 'surrogate')
      print('bad bytes', flush=True)
      os.write(1, b'raw \\xff\\xfe end\\n')
      raise ValueError('tail ' + chr(0xDFFF))
"""


def test_json_output_is_always_valid_utf8(tmp_path: Path) -> None:
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "hostile.yaml").write_text(LESSON, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "--lessons", str(tmp_path / "lessons"), "run", "hostile/surrogates", "--json"],
        capture_output=True,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)},
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr.decode(errors="replace")  # the program raised: status error
    text = proc.stdout.decode("utf-8")  # strict: raises on invalid UTF-8
    events = [json.loads(line) for line in text.splitlines()]
    outputs = [e["text"] for e in events if e["type"] == "output"]
    assert outputs == ["lone \ufffd surrogate", "bad bytes", "raw \ufffd\ufffd end"]
    finished = events[-1]
    assert finished["type"] == "finished" and finished["status"] == "error"
    assert finished["error"] == "ValueError: tail \ufffd" and finished["timings_trusted"] is True


DEEP = """\
def down(n):
    return down(n + 1)

down(0)
"""


async def test_deep_recursion_is_the_programs_error_with_its_traceback(runner: object) -> None:
    from bot.core.runner import Runner

    assert isinstance(runner, Runner)
    _, done = await collect(runner.run(DEEP, name="deep.py"))
    assert done.status == Status.ERROR, done
    assert done.error is not None and done.error.startswith("RecursionError")
    assert done.traceback is not None and 'File "deep.py", line 2, in down' in done.traceback
    assert "more frames" in done.traceback and len(done.traceback) < 5000


@needs_root
@pytest.mark.parametrize("mode", ["cgroup", "rlimit"])
async def test_unlimited_recursion_runs_out_of_memory_not_out_of_start(make_runner: MakeRunner, mode: str) -> None:
    runner = await hostile_runner(make_runner, mode, memory_mb=96)
    _, done = await collect(runner.run("import sys\nsys.setrecursionlimit(10**8)\n" + DEEP, name="deep.py"))
    if mode == "cgroup":
        assert done.status == Status.MEMORY_LIMIT, done
    else:  # the program's own error (CPython says MemoryError, or SystemError when a frame can't be made)
        assert done.status == Status.ERROR, done
        assert done.error is not None and done.error.split(":")[0] in ("MemoryError", "SystemError"), done
        assert done.traceback is not None and 'File "deep.py", line 4, in down' in done.traceback
    await assert_next_run_works(runner)


async def test_partial_last_line_survives_os_exit(runner: object) -> None:
    from bot.core.runner import Runner

    assert isinstance(runner, Runner)
    events, done = await collect(runner.run("import os\nprint('no newline', end='')\nos._exit(3)\n"))
    assert [o.text for o in lines(events)] == ["no newline"]
    assert done.status == Status.ERROR and done.exit_code == 3
