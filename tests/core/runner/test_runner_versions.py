"""Several Python versions: one warm worker per interpreter, the same containment on each, one admission.

These run the real runner with every interpreter this machine has (the bot's own, and pyenv's 3.12 and 3.13 on
the CI machine); a test that needs two or a given version skips, saying so, where they are missing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.errors import QueueFull, UserBusy
from bot.core.events import Status, TaskEvent
from bot.core.runner import Runner, pythons
from bot.core.runner.host import Host
from bot.core.runner.pythons import Interpreter, find_pythons, path_candidates, probe, pyenv_candidates
from bot.core.runner.sandbox import RUNNER_DIR
from bot.core.versions import PythonUnavailable

from .conftest import MakeRunner, collect, lines
from .hostile import CONTAINED, HOSTILE, assert_host_clean, host_shm_ids, needs_bwrap, needs_root
from .test_hostile_containment import MANY_HOGS
from .test_hostile_kernel import PROBE

pytestmark = pytest.mark.timeout(90)

OWN = f"{sys.version_info[0]}.{sys.version_info[1]}"
REAL = os.path.realpath(sys.executable)
VERSION = "import sys; print('%d.%d' % sys.version_info[:2], sys.version.split()[0])"
# The eager-start example (course/25): CPython 3.12.0-3.12.4 crashes with SIGSEGV when Task.get_coro() is
# called on a task the eager factory completed inside create_task (gh-122332); the harness must not do that.
EAGER = """\
import asyncio

async def cached(key):
    print(f"{key}: runs, never waits")
    return key.upper()

async def fetched(key):
    print(f"{key}: runs until its first wait")
    await asyncio.sleep(0.05)
    return key.upper()

async def main():
    asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
    a = asyncio.create_task(cached("a"))
    print(f"returned, done: {a.done()}")
    b = asyncio.create_task(fetched("b"))
    print(f"returned, done: {b.done()}")
    print("results:", await a, await b)

asyncio.run(main())
"""


@pytest.fixture
async def multi(make_runner: MakeRunner) -> Runner:
    """A runner with every interpreter found here (`runner.pythons: auto`); skips with fewer than two."""
    runner = await make_runner(pythons="auto", **HOSTILE)
    if len(runner.pythons.versions) < 2:
        pytest.skip(f"only one Python here ({runner.pythons.describe()}); CI has 3.11, 3.12 and 3.13")
    return runner


def other(runner: Runner) -> str:
    return next(v for v in runner.pythons.versions if v != runner.pythons.default)


async def test_each_version_runs_on_its_own_interpreter(multi: Runner) -> None:
    assert multi.pythons.default == OWN and "(default)" in multi.describe()
    runs = {version: multi.run(VERSION, python=version) for version in multi.pythons.versions}
    results = await asyncio.gather(*(collect(run) for run in runs.values()))
    for (version, run), (events, done) in zip(runs.items(), results, strict=True):
        assert done.status == Status.OK, done
        assert run.python == version
        said, release = lines(events)[0].text.split()
        assert said == version and release == multi.pythons.release(version)
    default = await collect(multi.run(VERSION))
    assert lines(default[0])[0].text.startswith(OWN + " ")
    assert (await multi.run(VERSION, python=f"python{other(multi)}").wait()).status == Status.OK  # typed forms


WHERE = "import os\nprint(os.getuid())\nprint(open('/proc/self/cgroup').read().replace(chr(10), ' '))\n"


@needs_root
@needs_bwrap
async def test_every_version_gets_the_same_containment(multi: Runner) -> None:
    if not (multi.seccomp and multi.namespaces and multi.cgroups is not None):
        pytest.skip(f"not every layer is available here: {multi.describe()}")
    shm = host_shm_ids()
    for version in multi.pythons.versions:
        events, done = await collect(multi.run(PROBE, python=version))
        assert done.status == Status.OK, (version, done)
        result = json.loads(lines(events)[0].text)
        if result.pop("machine") != "x86_64":
            pytest.skip("the probe uses x86_64 syscall numbers")
        assert result.pop("status") == CONTAINED, version
        assert result.pop("clone3") == "ENOSYS", version
        assert result == dict.fromkeys(result, "EPERM"), version
        events, done = await collect(multi.run(WHERE, python=version))
        uid, cgroups = (o.text for o in lines(events))
        engine = multi.workers.engine(version)  # its own uids and cgroups: the slots of its worker
        assert multi.host.uids is not None and int(uid) - multi.host.uids.base in engine.slots, (version, uid)
        assert any(f"/s{slot} " in cgroups + " " for slot in engine.slots), (version, cgroups)
        events, done = await collect(multi.run(MANY_HOGS, python=version))
        assert done.status == Status.MEMORY_LIMIT, (version, done)  # 96 MiB for all the run's processes
    assert_host_clean(multi, shm)


async def test_the_eager_task_crash_of_3_12_does_not_take_the_harness_down(make_runner: MakeRunner) -> None:
    runner = await make_runner(pythons=("3.12", "3.13"))
    eager = [v for v in runner.pythons.versions if v in ("3.12", "3.13")]
    if not eager:
        pytest.skip(f"no Python with eager tasks here ({runner.pythons.describe()})")
    for version in eager:
        events, done = await collect(runner.run(EAGER, python=version))
        assert done.status == Status.OK, (version, runner.pythons.release(version), done)
        assert [o.text for o in lines(events)] == [
            "a: runs, never waits",
            "returned, done: True",
            "b: runs until its first wait",
            "returned, done: False",
            "results: A B",
        ]
        names = {(e.name, e.event) for e in events if isinstance(e, TaskEvent)}
        assert {("cached", "created"), ("cached", "done"), ("fetched", "created"), ("fetched", "done")} <= names


async def test_admission_is_one_for_all_versions(make_runner: MakeRunner) -> None:
    runner = await make_runner(pythons="auto", max_concurrent=2, queue_size=1, per_user=1)
    if len(runner.pythons.versions) < 2:
        pytest.skip(f"only one Python here ({runner.pythons.describe()})")
    version = other(runner)
    slow = "import time\ntime.sleep(30)\n"
    first = runner.run(slow, owner=1, python=version)
    with pytest.raises(UserBusy):  # the per-user limit counts runs on every version
        runner.run("print(1)", owner=1)
    pair = runner.run_versions(VERSION, runner.pythons.versions[:2], owner=2)  # one of owner 2's, two slots' worth
    assert [run.python for run in pair] == runner.pythons.versions[:2]
    with pytest.raises(UserBusy):
        runner.run("print(1)", owner=2)
    with pytest.raises(QueueFull):  # 3 admitted, 1 more fits: a pair is refused whole
        runner.run_versions(VERSION, runner.pythons.versions[:2], owner=3)
    assert len(runner._runs) == 3
    first.cancel()
    results = [await run.wait() for run in pair]
    assert [r.status for r in results] == [Status.OK, Status.OK]
    assert (await first.wait()).status == Status.CANCELLED
    with pytest.raises(PythonUnavailable):
        runner.run("print(1)", python="2.7")


async def test_a_dead_worker_of_one_version_is_replaced_and_the_others_keep_going(multi: Runner) -> None:
    version = other(multi)
    engine = multi.workers.engine(version)
    assert engine.worker is not None and engine.worker.pid is not None
    default_pid = multi._worker.pid if multi._worker else None
    old = engine.worker.pid
    os.kill(old, signal.SIGKILL)
    await asyncio.sleep(0.3)
    events, done = await collect(multi.run(VERSION, python=version))
    assert done.status == Status.OK and lines(events)[0].text.startswith(version + " ")
    assert engine.worker is not None and engine.worker.pid != old
    assert multi._worker is not None and multi._worker.pid == default_pid


async def test_a_missing_configured_interpreter_is_unavailable_not_an_error(make_runner: MakeRunner) -> None:
    runner = await make_runner(pythons=("3.99", "/nonexistent/bin/python3"))
    assert runner.pythons.versions == [OWN]
    reasons = {u.name: u.reason for u in runner.pythons.unavailable}
    assert set(reasons) == {"3.99", "/nonexistent/bin/python3"}
    assert reasons["3.99"].startswith("not found") and "cannot start it" in reasons["/nonexistent/bin/python3"]
    assert "unavailable: " in runner.describe() and "3.99 (not found" in runner.describe()
    with pytest.raises(PythonUnavailable) as raised:
        runner.run("print(1)", python="3.99")
    assert raised.value.params == {"python": "3.99", "available": [OWN]}
    assert (await runner.run("print(1)").wait()).status == Status.OK


async def test_a_worker_with_less_containment_is_not_used(make_runner: MakeRunner, monkeypatch) -> None:
    monkeypatch.setattr(Host, "shortfall", lambda self, info: "no seccomp filter (for the test)")
    runner = await make_runner(pythons="auto")
    assert runner.pythons.versions == [OWN]
    for missing in runner.pythons.unavailable:
        assert missing.reason == "no seccomp filter (for the test)"


async def test_discovery_finds_pyenv_releases_and_skips_shims(tmp_path: Path) -> None:
    def executable(path: Path, text: str = "#!/bin/sh\nexit 3\n") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return path

    for release in ("3.12.1", "3.12.10", "3.13.0t", "pypy3.10-7.3"):
        executable(tmp_path / "pyenv" / "versions" / release / "bin" / f"python{'.'.join(release.split('.')[:2])}")
    found = pyenv_candidates(tmp_path / "pyenv")
    assert list(found) == ["3.12"]
    assert [p.parent.parent.name for p in found["3.12"]] == ["3.12.10", "3.12.1"]  # newest release first
    executable(tmp_path / "shims" / "python3.12")
    executable(tmp_path / "bin" / "python3.12")
    executable(tmp_path / "bin" / "python3")
    assert path_candidates(f"{tmp_path / 'shims'}:{tmp_path / 'bin'}") == {"3.12": [tmp_path / "bin" / "python3.12"]}
    assert await probe(str(tmp_path / "bin" / "python3.12")) == "it exited with status 3"
    liar = executable(tmp_path / "liar", "#!/bin/sh\necho '{\"version\": [3, 9, 1], \"release\": \"3.9.1\"}'\n")
    assert await probe(str(liar)) == "it did not say what it is"
    facts = {"version": [3, 9, 1], "release": "3.9.1", "impl": "cpython", "executable": "/x/python", "prefixes": []}
    old = executable(tmp_path / "old", f"#!/bin/sh\necho '{json.dumps(facts)}'\n")
    assert await probe(str(old)) == "it is Python 3.9.1; corobot needs 3.11 or later"
    own = await probe(sys.executable)
    assert isinstance(own, Interpreter) and own.version == OWN and own.executable == REAL


async def test_the_bots_own_interpreter_comes_first_and_wins_its_version(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pythons, "path_candidates", lambda: {OWN: [Path(sys.executable)]})
    monkeypatch.setattr(pythons, "pyenv_candidates", lambda: {})
    found, missing = await find_pythons("auto")
    assert [i.version for i in found] == [OWN] and found[0].own and missing == []
    found, missing = await find_pythons([OWN, "3.99"])
    assert [i.version for i in found] == [OWN] and [m.name for m in missing] == ["3.99"]


def test_every_file_the_worker_loads_compiles_cleanly_on_every_installed_version(tmp_path: Path) -> None:
    """worker.py and what it loads (stdlib only) must run on each interpreter: compiled with warnings as errors
    (3.12 turned invalid escape sequences into SyntaxWarnings, for one)."""
    files = [RUNNER_DIR / f"{name}.py" for name in ("worker", "child", "procs", "isolate")]
    checked = []
    for python in asyncio.run(find_pythons("auto"))[0]:
        copies = []
        for source in files:  # compiled where the .pyc files can go
            copy = tmp_path / python.version / source.name
            copy.parent.mkdir(exist_ok=True)
            copy.write_text(source.read_text())
            copies.append(str(copy))
        command = [python.executable, "-I", "-W", "error", "-m", "py_compile", *copies]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, (python.release, result.stderr)
        checked.append(python.version)
    assert OWN in checked
