"""A run's standard input: data passed with the run (bounded), read from a sealed memfd in the child.

Without stdin the program reads /dev/null (`input()` raises EOFError); with it, `input()` and
`sys.stdin.read()` see exactly the bytes given, and the program cannot write to them.  Checked in every
containment mode: the sandbox with a uid per run, rlimits only, and the supervised (non-root) mode.
"""

from __future__ import annotations

import pytest

from bot.core.errors import InputTooLarge
from bot.core.events import Status
from bot.core.runner import Runner, sandbox

from .conftest import MakeRunner, collect, lines

pytestmark = pytest.mark.timeout(60)

READER = """\
import sys
print(repr(input()))
print(repr(sys.stdin.read()))
"""
WRITER = """\
import os
try:
    os.write(0, b"changed")
except OSError as exc:
    print(type(exc).__name__)
try:
    open("/proc/self/fd/0", "w")
except OSError as exc:
    print(type(exc).__name__)
"""


@pytest.fixture(params=["sandbox", "rlimits", "supervised"])
async def any_runner(
    request: pytest.FixtureRequest, make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch
) -> Runner:
    if request.param == "supervised":
        monkeypatch.setattr(sandbox, "can_switch_uid", lambda: False)
        return await make_runner(sandbox="off")
    if request.param == "rlimits":
        return await make_runner(cgroups="off", sandbox="off")
    return await make_runner()


async def test_input_reads_the_given_lines(any_runner: Runner) -> None:
    events, done = await collect(any_runner.run(READER, stdin="alice\nbob\ncarol"))
    assert done.status == Status.OK, done
    assert [o.text for o in lines(events)] == ["'alice'", "'bob\\ncarol'"]


async def test_without_stdin_input_raises_eoferror(any_runner: Runner) -> None:
    events, done = await collect(any_runner.run(READER))
    assert done.status == Status.ERROR
    assert done.error == "EOFError: EOF when reading a line"
    assert lines(events) == []
    _, empty = await collect(any_runner.run(READER, stdin=""))  # empty is the same as none
    assert empty.error == "EOFError: EOF when reading a line"


async def test_stdin_is_read_only_data(any_runner: Runner) -> None:
    events, done = await collect(any_runner.run(WRITER, stdin="secret\n"))
    assert done.status == Status.OK, done
    assert len(lines(events)) == 2 and all(o.text in {"OSError", "PermissionError"} for o in lines(events))
    # and the next run of the same runner sees its own input, untouched by the earlier one
    events, _ = await collect(any_runner.run(READER, stdin="fresh\n"))
    assert [o.text for o in lines(events)] == ["'fresh'", "''"]


async def test_unicode_and_the_size_limit(make_runner: MakeRunner) -> None:
    runner = await make_runner(stdin_bytes=64)
    events, done = await collect(runner.run("print(input()[::-1])\n", stdin="协程" * 10))  # 60 bytes
    assert done.status == Status.OK and [o.text for o in lines(events)] == ["程协" * 10]
    with pytest.raises(InputTooLarge) as refused:
        runner.run("print(input())\n", stdin="x" * 65)
    assert refused.value.params == {"size": 65, "limit": 64}
    assert runner.active == 0 and runner.queued == 0  # refused before anything was admitted


async def test_a_large_stdin_is_read_whole_without_blocking(runner: Runner) -> None:
    data = "".join(f"{i}\n" for i in range(10_000))  # 48,890 bytes: far over a pipe's buffer, under the limit
    code = "import sys\nprint(sum(int(x) for x in sys.stdin))\n"
    events, done = await collect(runner.run(code, stdin=data, timeout=5))
    assert done.status == Status.OK, done
    assert [o.text for o in lines(events)] == [str(sum(range(10_000)))]
