"""The per-run cgroups: detection from the kernel's own files, the slots' limits, nothing left at close."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.core.errors import RunnerError
from bot.core.events import Status
from bot.core.runner import Runner
from bot.core.runner.cgroups import CgroupError, CgroupPool, SlotLimits, cgroup_mounts, own_cgroups

from .conftest import MakeRunner, collect, lines, make_settings

pytestmark = pytest.mark.timeout(60)

MOUNTINFO_V1 = """\
30 24 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
35 30 0:31 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,memory
36 30 0:32 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,pids
37 30 0:33 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,cpu,cpuacct
31 30 0:27 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 cgroup2 rw
"""
MOUNTINFO_V2 = "29 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"


def test_mounts_and_own_cgroups_are_read_from_the_kernels_format() -> None:
    mounts = cgroup_mounts(MOUNTINFO_V1)
    assert mounts["memory"] == (Path("/sys/fs/cgroup/memory"), "/")
    assert mounts["cpu"] == (Path("/sys/fs/cgroup/cpu,cpuacct"), "/")
    assert mounts[""] == (Path("/sys/fs/cgroup/unified"), "/")
    assert cgroup_mounts(MOUNTINFO_V2) == {"": (Path("/sys/fs/cgroup"), "/")}
    own = own_cgroups("12:pids:/a\n4:memory:/process_api/x\n1:cpu,cpuacct:/\n0::/user.slice/corobot.service\n")
    assert own == {"pids": "/a", "memory": "/process_api/x", "cpu": "/", "cpuacct": "/", "": own[""]}
    assert own[""] == "/user.slice/corobot.service"


def _pool_or_skip(slots: int = 2) -> CgroupPool:
    pool = CgroupPool(slots, SlotLimits(64 * 1024 * 1024, 16, 0.5))
    try:
        pool.open()
    except Exception as exc:
        pytest.skip(f"no cgroups can be made here: {exc}")
    return pool


def test_slots_get_the_limits_and_close_removes_everything() -> None:
    pool = _pool_or_skip()
    try:
        paths = pool.paths
        assert paths and all(p.is_dir() for p in paths)
        memory = pool._memory_dir(1)
        if pool.version == 1:
            assert int((memory / "memory.limit_in_bytes").read_text()) == 64 * 1024 * 1024
            cpu = pool._slots[1].dirs.get("cpu")
            if cpu is not None:
                assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
            assert (pool._slots[1].dirs["pids"] / "pids.max").read_text().strip() == "16"
        else:
            assert (memory / "memory.max").read_text().strip() == str(64 * 1024 * 1024)
            assert (memory / "pids.max").read_text().strip() == "16"
        assert pool.empty(0) and pool.oom_kills(0) == 0
    finally:
        pool.close()
    assert not any(p.exists() for p in paths)


def test_a_slot_with_leftover_processes_is_emptied_by_the_parent() -> None:
    """The parent's own kill path, independent of the worker: every process listed in the slot dies."""
    pool = _pool_or_skip()
    try:
        fds = pool.procs_fds(0)
        pid = os.fork()
        if pid == 0:
            for fd in fds:
                os.write(fd, b"0")
            os.setsid()
            if os.fork() == 0:  # an escapee in another session: the cgroup still holds it
                os.execv("/bin/sleep", ["sleep", "30"])
            os.execv("/bin/sleep", ["sleep", "30"])
        for _ in range(200):
            if len(pool.pids(0)) == 2:
                break
            time.sleep(0.01)
        assert len(pool.pids(0)) == 2 and not pool.empty(0)
        assert pool.kill(0) and pool.pids(0) == []
        os.waitpid(pid, 0)
    finally:
        pool.close()


async def test_runner_leaves_no_cgroup_behind(make_runner: MakeRunner) -> None:
    runner: Runner = await make_runner(cgroups="auto")
    if runner.cgroups is None:
        pytest.skip("no cgroups can be made here")
    paths = runner.cgroups.paths
    events, done = await collect(runner.run("import os\nprint(open('/proc/self/cgroup').read().count('/s'))\n"))
    assert done.status == Status.OK and int(lines(events)[0].text) >= 1  # the program ran inside a slot
    await runner.close()
    assert runner.cgroups is None and not any(p.exists() for p in paths)


async def test_cgroups_required_without_them_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(CgroupPool, "open", _refuse)
    runner = Runner(make_settings(cgroups="required"))
    with pytest.raises(RunnerError, match="cgroup"):
        await runner.start()
    await runner.close()


def _refuse(self: CgroupPool) -> None:
    raise CgroupError("not here")
