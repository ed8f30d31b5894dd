"""Isolation: environment, network, files, process limits and cleanup, with and without bubblewrap."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import pytest

from bot.core.errors import RunnerError
from bot.core.events import Output, Status
from bot.core.runner import Runner, sandbox

from .conftest import ESCAPE, LAG_LIMIT, LagProbe, MakeRunner, collect, lines, make_settings, run_uid_processes

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(os.geteuid() != 0, reason="separate run uids need root"),
]
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")
REPO = Path(__file__).resolve().parents[3]

FORK_FLOOD = """\
import os, time
print(os.getuid(), flush=True)
made = 0
try:
    for _ in range(300):
        if os.fork() == 0:
            time.sleep(100)
            os._exit(0)
        made += 1
except OSError as exc:
    print("fork refused:", type(exc).__name__, flush=True)
print(made, flush=True)
"""


@pytest.fixture(params=["auto", "off"])
async def any_runner(request: pytest.FixtureRequest, make_runner: MakeRunner) -> Runner:
    if request.param == "auto" and shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed")
    runner: Runner = await make_runner(sandbox=request.param, processes=64)
    assert runner.sandboxed == (request.param == "auto")
    return runner


async def test_fork_flood_is_bounded_and_cleaned_up(any_runner: Runner, lag: LagProbe) -> None:
    events, done = await collect(any_runner.run(FORK_FLOOD, timeout=10))
    out = [o.text for o in lines(events)]
    assert done.status == Status.OK, (done, out)
    uid, made = int(out[0]), int(out[-1])
    assert "fork refused: BlockingIOError" in out
    assert 0 < made < 64
    assert uid != 0 and run_uid_processes(uid) == []
    assert lag.worst < LAG_LIMIT


async def test_setsid_escapee_is_gone_after_the_run(any_runner: Runner) -> None:
    events, done = await collect(any_runner.run(ESCAPE))
    out = [o.text for o in lines(events)]
    assert done.status == Status.OK, (done, out)
    uid, pid = int(out[0]), int(out[1])
    assert run_uid_processes(uid) == []
    if not any_runner.sandboxed:  # same pid namespace: the escapee's pid means something here
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_environment_has_no_secrets(make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "very-secret-token-123")
    monkeypatch.setenv("COROBOT_RUNNER__MEMORY_MB", "512")
    for mode in ("auto", "off"):
        runner: Runner = await make_runner(sandbox=mode)
        events, done = await collect(runner.run("import os\nprint(sorted(os.environ.items()))\n"))
        text = "\n".join(o.text for o in lines(events))
        assert done.status == Status.OK, done
        assert runner._worker is not None and runner._worker.pid is not None  # the worker process itself too
        with open(f"/proc/{runner._worker.pid}/environ", "rb") as f:  # noqa: ASYNC230
            text += f.read().decode()
        assert "very-secret-token-123" not in text and "DISCORD_TOKEN" not in text and "COROBOT" not in text
        assert "PATH" in text  # the probe did read the environment


@needs_bwrap
async def test_sandbox_has_no_network(make_runner: MakeRunner) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    code = (
        "import socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).close()\n"
        "    print('connected')\nexcept OSError as exc:\n    print('no network:', type(exc).__name__)\n"
    )
    try:
        for mode, expected in (("auto", "no network"), ("off", "connected")):
            runner: Runner = await make_runner(sandbox=mode)
            events, _ = await collect(runner.run(code))
            assert lines(events)[0].text.startswith(expected), (mode, lines(events))
    finally:
        server.close()
        await server.wait_closed()


@needs_bwrap
async def test_sandbox_filesystem_is_read_only_and_hides_the_repo(runner: Runner) -> None:
    code = f"""\
import os
print(os.path.exists({str(REPO / "pyproject.toml")!r}))
print(os.path.exists("/root/.bash_history") or os.path.exists("/home"))
try:
    open("/usr/corobot-test", "w")
except OSError as exc:
    print(type(exc).__name__)
with open("scratch.txt", "w") as f:
    f.write("temp is writable")
print(open("scratch.txt").read())
"""
    events, done = await collect(runner.run(code))
    assert done.status == Status.OK, done
    assert [o.text for o in lines(events)] == ["False", "False", "OSError", "temp is writable"] or [
        o.text for o in lines(events)
    ] == ["False", "False", "PermissionError", "temp is writable"]


@needs_bwrap
async def test_whole_standard_library_importable_in_the_sandbox(runner: Runner) -> None:
    """Modules the worker never pre-imported (threads' executor, statistics, zoneinfo) import for the run's
    unprivileged uid: the sandbox's parents of the interpreter prefix must be traversable."""
    code = """\
import asyncio, os, statistics, zoneinfo, concurrent.futures.thread

async def main():
    print(await asyncio.to_thread(statistics.mean, [1, 2, 3]), os.getuid() != 0)

asyncio.run(main())
"""
    events, done = await collect(runner.run(code))
    assert done.status == Status.OK, done
    assert [o.text for o in lines(events)] == ["2 True"]


async def test_sandbox_off_runs_with_rlimits(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner(sandbox="off", cgroups="off")
    assert not runner.sandboxed and "no sandbox" in runner.describe() and "rlimits only" in runner.describe()
    code = "import resource\nprint(resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)\nbytearray(2**32)\n"
    events, done = await collect(runner.run(code))
    assert lines(events)[0].text == str(runner.limits.memory_mb)
    assert done.status == Status.ERROR and done.error == "MemoryError"  # the program's word, not a limit


async def test_sandbox_required_without_bwrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    runner = Runner(make_settings(sandbox="required"))
    with pytest.raises(RunnerError, match="bubblewrap"):
        await runner.start()
    await runner.close()


async def test_auto_without_bwrap_warns_once(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sandbox, "find_bwrap", lambda: None)
    async with Runner(make_settings(sandbox="auto")) as runner:
        assert not runner.sandboxed
        assert (await runner.run("print(1)").wait()).status == Status.OK
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and "WITHOUT a sandbox" in r.message]
    assert len(warnings) == 1


ORPHANS = """\
import os, sys, time
print(os.getuid(), flush=True)
if os.fork() == 0:
    time.sleep(100)
    os._exit(0)
time.sleep(100)
"""


async def test_a_worker_that_dies_takes_its_runs_along(make_runner: MakeRunner) -> None:
    # Without the sandbox's pid namespace nothing else would end them: the program dies with the worker
    # (parent-death signal), and what it forked is ended by the next worker, which sweeps the run uids.
    runner = await make_runner(sandbox="off")
    run = runner.run(ORPHANS, timeout=20)
    uid = None
    async for event in run:
        if isinstance(event, Output):
            uid = int(event.text)
            break
    assert uid is not None and uid != 0
    await asyncio.sleep(0.3)
    assert len(run_uid_processes(uid)) == 2
    worker = runner._worker
    assert worker is not None and worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    done = await run.wait()
    assert done.status == Status.KILLED and "worker died" in (done.error or "")
    assert (await runner.run("print('next')").wait()).status == Status.OK  # a new worker
    assert run_uid_processes(uid) == []
