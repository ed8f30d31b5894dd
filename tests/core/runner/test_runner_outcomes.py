"""Every named outcome, with real children: earlier output kept, ends within timeout + 1 s, loop unstalled."""

from __future__ import annotations

import time

import pytest

from bot.core.events import Output, Started, Status
from bot.core.runner import Runner

from .conftest import LAG_LIMIT, LagProbe, MakeRunner, collect, lines

pytestmark = pytest.mark.timeout(60)


async def test_ok_run_streams_lines_and_exit_code(runner: Runner) -> None:
    events, done = await collect(runner.run("print('a')\nprint('b')\nimport sys\nprint('c', file=sys.stderr)\n"))
    assert isinstance(events[0], Started)
    assert [o.text for o in lines(events)] == ["a", "b"]
    assert [o.text for o in lines(events, "stderr")] == ["c"]
    assert done.status == Status.OK and done.exit_code == 0 and done.error is None


async def test_exception_reports_the_lessons_line(runner: Runner) -> None:
    code = "print('before')\n\ndef f():\n    raise ValueError('boom')\n\nf()\n"
    events, done = await collect(runner.run(code, name="lesson.py"))
    assert [o.text for o in lines(events)] == ["before"]
    assert done.status == Status.ERROR
    assert done.error == "ValueError: boom"
    assert done.traceback is not None
    assert 'File "lesson.py", line 4, in f' in done.traceback
    assert 'File "lesson.py", line 6' in done.traceback
    assert "child.py" not in done.traceback and "worker.py" not in done.traceback


async def test_syntax_error_names_the_line(runner: Runner) -> None:
    _, done = await collect(runner.run("x = 1\ny = (\n", name="broken.py"))
    assert done.status == Status.ERROR
    assert done.error is not None and done.error.startswith("SyntaxError")
    assert done.traceback is not None and 'File "broken.py", line 2' in done.traceback


@pytest.mark.parametrize(
    "body",
    ["while True:\n    pass\n", "import time\ntime.sleep(100)\n"],
    ids=["busy", "sleeping"],
)
async def test_timeout_kills_and_keeps_output(runner: Runner, lag: LagProbe, body: str) -> None:
    start = time.perf_counter()
    events, done = await collect(runner.run("print('started', flush=True)\n" + body, timeout=2))
    took = time.perf_counter() - start
    assert done.status == Status.TIMEOUT
    assert [o.text for o in lines(events)] == ["started"]
    assert 1.9 <= done.elapsed <= 3.0
    assert took <= 2 + 1
    assert lag.worst < LAG_LIMIT


async def test_memory_limit(runner: Runner, lag: LagProbe) -> None:
    code = "print('before')\nblob = bytearray(4 * 1024 ** 3)\nprint('after')\n"
    events, done = await collect(runner.run(code, timeout=10))
    assert [o.text for o in lines(events)] == ["before"]
    if runner.cgroups is not None:  # the kernel's OOM killer in the run's cgroup: its word, a named status
        assert done.status == Status.MEMORY_LIMIT
        assert done.error is not None and f"{runner.limits.memory_mb} MiB" in done.error
    else:  # RLIMIT_AS: the program's own MemoryError, which is all the parent knows
        assert done.status == Status.ERROR
        assert done.error is not None and "MemoryError" in done.error
    assert lag.worst < LAG_LIMIT


async def test_cpu_limit(make_runner: MakeRunner, lag: LagProbe) -> None:
    runner = await make_runner(cpu_seconds=1)
    start = time.perf_counter()
    events, done = await collect(runner.run("print('spin')\nwhile True:\n    pass\n", timeout=8))
    assert done.status == Status.CPU_LIMIT, done
    assert [o.text for o in lines(events)] == ["spin"]
    assert time.perf_counter() - start < 8  # the CPU limit fired, not the deadline
    assert lag.worst < LAG_LIMIT


async def test_a_self_sent_sigxcpu_is_not_the_cpu_limit(make_runner: MakeRunner) -> None:
    runner = await make_runner(cpu_seconds=2)
    code = "import os, signal\nprint('bye')\nos.kill(os.getpid(), signal.SIGXCPU)\n"
    events, done = await collect(runner.run(code, timeout=8))
    assert done.status == Status.KILLED and "SIGXCPU" in (done.error or ""), done
    assert [o.text for o in lines(events)] == ["bye"]


async def test_output_limit_via_print_keeps_early_output(runner: Runner, lag: LagProbe) -> None:
    code = "print('first')\nline = 'x' * 999\nfor _ in range(100_000):\n    print(line)\n"  # 100 MB
    start = time.perf_counter()
    events, done = await collect(runner.run(code, timeout=20))
    assert done.status == Status.OUTPUT_LIMIT
    out = lines(events)
    assert out[0].text == "first"
    total = sum(len(o.text.encode()) + 1 for o in out)
    assert total <= runner.limits.output_bytes + 1
    assert len(out) <= runner.limits.output_lines
    assert time.perf_counter() - start < 5
    assert lag.worst < LAG_LIMIT


async def test_output_limit_on_raw_fd_and_huge_line(runner: Runner, lag: LagProbe) -> None:
    code = "import os\nprint('first', flush=True)\nchunk = b'y' * 100_000\nwhile True:\n    os.write(1, chunk)\n"
    events, done = await collect(runner.run(code, timeout=10))
    assert done.status == Status.OUTPUT_LIMIT
    out = lines(events)
    assert out[0].text == "first"
    assert sum(len(o.text) for o in out) <= runner.limits.output_bytes
    assert lag.worst < LAG_LIMIT


async def test_output_line_cap(make_runner: MakeRunner) -> None:
    runner = await make_runner(output_lines=50)
    events, done = await collect(runner.run("for i in range(1000):\n    print(i)\n"))
    assert done.status == Status.OUTPUT_LIMIT
    assert [o.text for o in lines(events)] == [str(i) for i in range(50)]


async def test_killed_by_a_signal(runner: Runner) -> None:
    code = "import os, signal\nprint('bye', flush=True)\nos.kill(os.getpid(), signal.SIGTERM)\n"
    events, done = await collect(runner.run(code))
    assert done.status == Status.KILLED
    assert done.error is not None and "SIGTERM" in done.error
    assert [o.text for o in lines(events)] == ["bye"]


async def test_nonzero_exit_is_an_error(runner: Runner) -> None:
    _, done = await collect(runner.run("import sys\nsys.exit(3)\n"))
    assert done.status == Status.ERROR and done.exit_code == 3


async def test_partial_last_line_is_flushed(runner: Runner) -> None:
    events, done = await collect(runner.run("print('no newline', end='')\n"))
    assert done.status == Status.OK
    assert [o.text for o in events if isinstance(o, Output)] == ["no newline"]
