"""The worker's mode without per-run uids (a non-root service): a supervisor process per run.

CI runs as root, where the worker supervises runs itself by their uids; here the runner is told it cannot
switch uids, so the same checks go through the other mode: output, a kill on timeout, a `setsid()` escapee
gone after the run.  Sandbox off: same pid namespace, so the escapee's pid can be checked from here.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from bot.core.events import Finished, Status
from bot.core.runner import Runner, sandbox

from .conftest import ESCAPE, MakeRunner, collect, lines

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def supervised(make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setattr(sandbox, "can_switch_uid", lambda: False)
    runner = await make_runner(sandbox="off")
    assert runner.host.uids is None and not any(arg.startswith("--uids") for arg in runner.host.command)
    return runner


async def test_ok_run_and_its_output(supervised: Runner) -> None:
    events, done = await collect(supervised.run("print('hello')\nprint('world')\n"))
    assert done.status == Status.OK and done.exit_code == 0
    assert [o.text for o in lines(events)] == ["hello", "world"]


async def test_timeout_kills_and_keeps_output(supervised: Runner) -> None:
    start = time.perf_counter()
    events, done = await collect(supervised.run("print('started', flush=True)\nwhile True: pass\n", timeout=1))
    assert done.status == Status.TIMEOUT
    assert [o.text for o in lines(events)] == ["started"]
    assert time.perf_counter() - start < 2.5


async def test_setsid_escapee_is_gone_after_the_run(supervised: Runner) -> None:
    events, done = await collect(supervised.run(ESCAPE))
    assert done.status == Status.OK, done
    _, pid = [int(o.text) for o in lines(events)]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


FORGED_END = (
    "import os, time\n"
    "os.write(3, b'{\"k\": \"exit\", \"status\": 99999999999, \"cpu\": \"x\", \"end\": 1e300}\\n')\n"
    "time.sleep(0.1)\nprint('still running')\n"
)


@pytest.mark.parametrize("cgroups", ["auto", "off"])
async def test_forged_ends_do_not_end_runs_or_hold_slots(
    make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch, cgroups: str
) -> None:
    monkeypatch.setattr(sandbox, "can_switch_uid", lambda: False)
    runner = await make_runner(sandbox="off", cgroups=cgroups, max_concurrent=4, per_user=20, queue_size=20)
    results = await asyncio.gather(*(collect(runner.run(FORGED_END, owner=1)) for _ in range(10)))
    for events, done in results:
        assert done.status == Status.OK, done
        assert [o.text for o in lines(events)] == ["still running"]
        assert sum(isinstance(e, Finished) for e in events) == 1
    assert runner.free_slots == 4
    events, done = await collect(runner.run("print('next')"))
    assert done.status == Status.OK and [o.text for o in lines(events)] == ["next"]


async def test_a_program_that_kills_its_supervisor_ends_killed(supervised: Runner) -> None:
    """Without root the supervisor shares the program's uid: killing it ends the run, and the run's slot
    comes back all the same (the program dies with its parent)."""
    code = "import os, signal, time\nprint('here', flush=True)\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(5)\n"
    start = time.perf_counter()
    events, done = await collect(supervised.run(code))
    assert done.status == Status.KILLED, done
    assert [o.text for o in lines(events)] == ["here"]
    assert time.perf_counter() - start < 4
    for _ in range(100):  # without the worker's word that the run is gone, the slot is emptied first
        if supervised.free_slots == supervised.slots:
            break
        await asyncio.sleep(0.02)
    assert supervised.free_slots == supervised.slots
    assert (await supervised.run("print('next')").wait()).status == Status.OK
