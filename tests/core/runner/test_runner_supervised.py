"""The worker's mode without per-run uids (a non-root service): a supervisor process per run.

CI runs as root, where the worker supervises runs itself by their uids; here the runner is told it cannot
switch uids, so the same checks go through the other mode: output, a kill on timeout, a `setsid()` escapee
gone after the run.  Sandbox off: same pid namespace, so the escapee's pid can be checked from here.
"""

from __future__ import annotations

import os
import time

import pytest

from bot.core.events import Status
from bot.core.runner import Runner, sandbox

from .conftest import ESCAPE, MakeRunner, collect, lines

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
async def supervised(make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setattr(sandbox, "can_switch_uid", lambda: False)
    runner = await make_runner(sandbox="off")
    assert runner._uids is None and not any(arg.startswith("--uids") for arg in runner._command)
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
