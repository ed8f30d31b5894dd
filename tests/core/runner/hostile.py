"""Shared pieces of the hostile-program tests: a runner factory per containment mode and host checks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.core.events import Finished, Output, Status
from bot.core.runner import Runner

from .conftest import MakeRunner, collect, lines, run_uid_processes

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="per-run uids, namespaces and cgroups need root")
needs_bwrap = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")

# What a program's /proc/self/status says inside the sandbox (the kernel probes of test_hostile_kernel.py):
# no capabilities at all, no-new-privileges, a seccomp filter.
CONTAINED = {
    "CapEff": "0" * 16,
    "CapPrm": "0" * 16,
    "CapInh": "0" * 16,
    "CapAmb": "0" * 16,
    "NoNewPrivs": "1",
    "Seccomp": "2",
}

# Small limits keep every hostile test short (the CI budget) while the limits still bite.
HOSTILE = {"timeout_default": 5.0, "timeout_max": 10.0, "memory_mb": 96, "processes": 32, "tmp_mb": 8}


def fd3(obj: dict[str, Any]) -> str:
    """A line of program code that writes one forged message on the harness's event pipe (fd 3)."""
    line = json.dumps(obj) + "\n"  # NaN and 1e300 as JSON has them
    return f"import os; os.write(3, {line.encode()!r})\n"


async def hostile_runner(make_runner: MakeRunner, mode: str, **overrides: Any) -> Runner:
    """`cgroup`: the full sandbox with a cgroup per run; `rlimit`: the same without cgroups (skips where the
    machine cannot give the mode)."""
    values = {**HOSTILE, **overrides}
    if mode == "rlimit":
        values["cgroups"] = "off"
    runner = await make_runner(**values)
    if mode == "cgroup" and runner.cgroups is None:
        await runner.close()
        pytest.skip("no cgroup can be made here (needs root, or a delegated cgroup v2)")
    return runner


def host_shm_ids() -> set[str]:
    """SysV shared memory segments in the host's IPC namespace (ours)."""
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return {row.split()[1] for row in rows if row.split()}


def _uid(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


def runner_uids(runner: Runner) -> range:
    uids = runner.host.uids
    assert uids is not None
    return range(uids.base, uids.base + runner.slots)  # max_concurrent per interpreter's worker


def assert_host_clean(runner: Runner, shm_before: set[str]) -> None:
    """Nothing of any run left: no process with a run uid, no new shm segment, every slot cgroup empty."""
    if runner.host.uids is not None:
        for uid in runner_uids(runner):
            assert run_uid_processes(uid) == [], f"processes of uid {uid} left behind"
    assert host_shm_ids() <= shm_before, "a SysV shm segment was left on the host"
    if runner.cgroups is not None:  # a spare of the worker (root) may wait in a slot for its next run
        for slot in range(runner.slots):
            left = [pid for pid in runner.cgroups.pids(slot) if _uid(pid) not in (0, None)]
            assert left == [], f"slot {slot}'s cgroup still holds processes of a run"
    assert runner.free_slots == runner.slots, "a slot was not given back"


async def assert_next_run_works(runner: Runner) -> None:
    events, done = await collect(runner.run("print('next run ok')"))
    assert done.status == Status.OK, done
    assert [o.text for o in lines(events)] == ["next run ok"]


def outputs(events: list[Any]) -> list[str]:
    return [e.text for e in events if isinstance(e, Output)]


def finished_count(events: list[Any]) -> int:
    return sum(isinstance(e, Finished) for e in events)
