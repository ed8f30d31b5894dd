"""Hostile programs against the kernel's attack surface (issue 9, attack 5), and what must keep working."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.events import Status
from bot.core.runner import Runner

from .conftest import MakeRunner, collect, lines
from .hostile import CONTAINED, assert_next_run_works, hostile_runner, needs_bwrap, needs_root

pytestmark = [pytest.mark.timeout(60), needs_root, needs_bwrap]

# x86_64 syscall numbers; each call is made with harmless arguments: only the filter's answer matters.
PROBE = """\
import ctypes, errno, json, os, platform
libc = ctypes.CDLL(None, use_errno=True)
calls = {
    'unshare(CLONE_NEWUSER)': (272, 0x10000000), 'unshare(CLONE_NEWNET)': (272, 0x40000000),
    'clone(CLONE_NEWUSER)': (56, 0x10000000 | 17, 0, 0, 0, 0), 'setns': (308, -1, 0),
    'keyctl': (250, 0, 0), 'add_key': (248, b'user', b'k', b'v', 1, -2), 'request_key': (249, b'user', b'k', 0, 0),
    'mount': (165, b'none', b'/tmp', b'tmpfs', 0, 0), 'umount2': (166, b'/tmp', 0), 'pivot_root': (155, b'/', b'/'),
    'io_uring_setup': (425, 1, 0), 'userfaultfd': (323, 0), 'bpf': (321, 0, 0, 0),
    'perf_event_open': (298, 0, 0, -1, -1, 0), 'ptrace': (101, 16, 1, 0, 0), 'init_module': (175, 0, 0, b''),
    'kexec_load': (246, 0, 0, 0, 0), 'clone3': (435, 0, 0),
}
result = {}
for name, (number, *args) in calls.items():
    ret = libc.syscall(number, *args)
    result[name] = errno.errorcode.get(ctypes.get_errno(), '?') if ret < 0 else 'ALLOWED'
status = dict(line.split(':', 1) for line in open('/proc/self/status'))
keys = ('CapEff', 'CapPrm', 'CapInh', 'CapAmb', 'NoNewPrivs', 'Seccomp')
result['status'] = {key: status[key].strip() for key in keys}
result['machine'] = platform.machine()
print(json.dumps(result))
"""

STILL_WORKS = """\
import asyncio, os, subprocess, sys, threading

def in_thread(out):
    out.append(threading.current_thread().name != 'MainThread')

async def main():
    seen = []
    thread = threading.Thread(target=in_thread, args=(seen,))
    thread.start()
    thread.join()
    print('thread', seen == [True])
    print('to_thread', await asyncio.to_thread(lambda: 6 * 7))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, '-c', 'print(40 + 2)', stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    print('subprocess', out.decode().strip(), proc.returncode)
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    print('fork', os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

asyncio.run(main())
"""


def _descendant_running(pid: int, needle: bytes) -> int:
    todo = [pid]
    while todo:
        here = todo.pop()
        argv = Path(f"/proc/{here}/cmdline").read_bytes().split(b"\0")
        if b"bwrap" not in argv[0] and needle in b" ".join(argv):  # bubblewrap's own argv names it too
            return here
        todo += [int(x) for x in Path(f"/proc/{here}/task/{here}/children").read_text().split()]
    raise AssertionError(f"no process below {pid} runs {needle!r}")


def _status_field(pid: int, key: str) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {key} in /proc/{pid}/status")


async def seccomp_runner(make_runner: MakeRunner, mode: str) -> Runner:
    runner = await hostile_runner(make_runner, mode)
    if not runner.seccomp:
        pytest.skip("no seccomp filter on this machine (libseccomp missing)")
    return runner


@pytest.mark.parametrize("mode", ["cgroup", "rlimit"])
async def test_kernel_attack_surface_is_denied_with_eperm(make_runner: MakeRunner, mode: str) -> None:
    runner = await seccomp_runner(make_runner, mode)
    events, done = await collect(runner.run(PROBE))
    assert done.status == Status.OK, done
    result = json.loads(lines(events)[0].text)
    if result.pop("machine") != "x86_64":
        pytest.skip("the probe uses x86_64 syscall numbers")
    status = result.pop("status")
    assert result.pop("clone3") == "ENOSYS"  # so that libc falls back to clone, whose flags the filter sees
    assert result == dict.fromkeys(result, "EPERM")
    assert status == CONTAINED
    await assert_next_run_works(runner)


async def test_threads_to_thread_subprocesses_and_fork_still_work(make_runner: MakeRunner) -> None:
    runner = await seccomp_runner(make_runner, "cgroup")
    events, done = await collect(runner.run(STILL_WORKS))
    assert done.status == Status.OK, done
    assert [o.text for o in lines(events)] == ["thread True", "to_thread 42", "subprocess 42 0", "fork 7"]


async def test_only_the_worker_holds_the_namespace_capabilities(make_runner: MakeRunner) -> None:
    runner = await hostile_runner(make_runner, "cgroup")
    if not runner.namespaces:
        pytest.skip("private namespaces per run are not available here")
    assert runner._worker is not None and runner._worker.pid is not None
    worker = _descendant_running(runner._worker.pid, b"worker.py")  # below bubblewrap and its pid-1 helper
    caps = int(_status_field(worker, "CapEff"), 16)
    assert caps & (1 << 21) and caps & (1 << 12)  # CAP_SYS_ADMIN, CAP_NET_ADMIN: to make each run's namespaces
    assert not caps & (1 << 19) and not caps & (1 << 1)  # but no CAP_SYS_PTRACE, no CAP_DAC_OVERRIDE
    events, _ = await collect(runner.run("print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])"))
    assert [o.text for o in lines(events)] == ["0" * 16]  # the program: none


async def test_a_run_sees_only_its_own_processes(make_runner: MakeRunner) -> None:
    runner = await hostile_runner(make_runner, "cgroup")
    if not runner.namespaces:
        pytest.skip("private namespaces per run are not available here")
    code = "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()) == [os.getpid()])\n"
    other = runner.run("import time\ntime.sleep(2)\n", owner=1)
    events, _ = await collect(runner.run(code, owner=2))
    assert [o.text for o in lines(events)] == ["True"]  # hidepid: not the worker, not the other run
    other.cancel()
    await other.wait()
