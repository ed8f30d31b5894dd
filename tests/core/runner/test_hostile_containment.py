"""Hostile programs against containment (issue 9, attacks 3, 4 and 6): limits hold for the run as a whole,
and nothing one run leaves is visible to the next or survives on the host."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bot.core.events import Status
from bot.core.runner import Runner, sandbox

from .conftest import LAG_LIMIT, LagProbe, MakeRunner, collect, lines
from .hostile import (
    assert_host_clean,
    assert_next_run_works,
    host_shm_ids,
    hostile_runner,
    needs_bwrap,
    needs_root,
)

pytestmark = [pytest.mark.timeout(60), needs_root]

# Attack 3: several processes of one run, each under any per-process limit, together far over the run's.
MANY_HOGS = """\
import os, time
pids = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(60 * 1024 * 1024)  # touched: 60 MiB each, 180 MiB in all
        time.sleep(3)
        os._exit(0)
    pids.append(pid)
statuses = [os.waitpid(pid, 0)[1] for pid in pids]
print('all held' if statuses == [0, 0, 0] else 'some were killed', flush=True)
"""

SHM_AND_MEMFD = """\
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(0, 48 << 20, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600, never removed by the program
ctypes.memset(libc.shmat(shmid, None, 0), 1, 48 << 20)
print('shm held 48 MiB', flush=True)
chunk = b'm' * (1 << 20)
for _ in range(10):  # memfds, each under the file-size limit
    fd = os.memfd_create('grow')
    for _ in range(7):
        os.write(fd, chunk)
print('memfds held 70 MiB more', flush=True)
"""


async def test_memory_is_limited_per_run_not_per_process(make_runner: MakeRunner, lag: LagProbe) -> None:
    runner = await hostile_runner(make_runner, "cgroup")
    shm = host_shm_ids()
    events, done = await collect(runner.run(MANY_HOGS))
    assert done.status == Status.MEMORY_LIMIT, done  # 96 MiB for the run: the kernel's OOM killer said so
    assert [o.text for o in lines(events)] in ([], ["some were killed"])
    events, done = await collect(runner.run(SHM_AND_MEMFD))
    assert done.status == Status.MEMORY_LIMIT, done  # shared memory and memfd pages count too
    assert "memfds held 70 MiB more" not in [o.text for o in lines(events)]
    assert lag.worst < LAG_LIMIT
    assert_host_clean(runner, shm)
    await assert_next_run_works(runner)


async def test_without_cgroups_the_limit_is_per_process(make_runner: MakeRunner) -> None:
    """The fallback, as documented: rlimits bound each process, not the run."""
    runner = await hostile_runner(make_runner, "rlimit", memory_mb=128)
    events, done = await collect(runner.run(MANY_HOGS))
    assert done.status == Status.OK and [o.text for o in lines(events)] == ["all held"]


@needs_bwrap
@pytest.mark.parametrize("mode", ["cgroup", "rlimit"])
async def test_shared_memory_and_tmp_die_with_the_run(make_runner: MakeRunner, mode: str) -> None:
    runner = await hostile_runner(make_runner, mode, memory_mb=256)
    if not runner.namespaces:
        pytest.skip("private namespaces per run are not available here")
    shm = host_shm_ids()
    leave = """\
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print(libc.shmget(0x5EC2E7, 1 << 20, 0o1666) >= 0)
os.makedirs('/tmp/left/deep')
open('/tmp/left/deep/secret', 'w').write('run one was here')
open('/dev/shm/posix-left', 'w').write('x')
os.chmod('/tmp/left/deep', 0)
os.chmod('/tmp/left', 0)
made = 0
try:
    while True:
        open(f'/tmp/f{made}', 'w').close()
        made += 1
except OSError as exc:
    print('tmp full after', made, type(exc).__name__)
"""
    events, done = await collect(runner.run(leave))
    out = [o.text for o in lines(events)]
    assert done.status == Status.OK, done
    assert out[0] == "True" and out[1].startswith("tmp full after") and "OSError" in out[1]
    assert int(out[1].split()[3]) < runner.limits.tmp_inodes  # inode cap: no 200k files
    look = """\
import os
print(sorted(os.listdir('/tmp')), sorted(os.listdir('/dev/shm')))
print(open('/proc/sysvipc/shm').read().count('\\n') - 1)
"""
    events, done = await collect(runner.run(look))
    # a checkout or venv under /tmp is bound into every run's /tmp on purpose; nothing else may be there
    carried = sorted({Path(path).relative_to("/tmp").parts[0] for path in sandbox.binds_under_tmp()})
    assert [o.text for o in lines(events)] == [f"{carried} []", "0"], done
    assert_host_clean(runner, shm)


# Attack 4: three spinning processes of one run took both cores for the whole timeout.
SPINNERS = """\
import os, time
read, write = os.pipe()
for _ in range(3):
    if os.fork() == 0:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            pass
        os.write(write, f'{time.process_time()}\\n'.encode())
        os._exit(0)
for _ in range(3):
    os.wait()
os.close(write)
total = sum(float(x) for x in os.read(read, 1000).split())
print(f'{total:.2f}')
"""


async def test_cpu_is_limited_per_run(make_runner: MakeRunner, lag: LagProbe) -> None:
    runner = await hostile_runner(make_runner, "cgroup")
    events, done = await collect(runner.run(SPINNERS))
    assert done.status == Status.OK, done
    used = float(lines(events)[0].text)
    assert used <= 1.5 * runner.limits.cpu_cores * 1.25  # one core's worth over 1.5 s, not both cores
    assert lag.worst < LAG_LIMIT


# Attack 6: runs reaching each other over loopback TCP and abstract unix sockets.
SERVER = """\
import asyncio, socket
async def echo(reader, writer):
    writer.write(await reader.readline())
    await writer.drain()
    writer.close()
async def main():
    server = await asyncio.start_server(echo, '127.0.0.1', 47123)
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind('\\0corobot-test')
    abstract.listen()
    reader, writer = await asyncio.open_connection('127.0.0.1', 47123)
    writer.write(b'ping\\n')
    print('own loopback:', (await reader.readline()).decode().strip(), flush=True)
    await asyncio.sleep(3)
asyncio.run(main())
"""
CLIENT = """\
import socket
for address, family in ((('127.0.0.1', 47123), socket.AF_INET), ('\\0corobot-test', socket.AF_UNIX)):
    try:
        socket.socket(family).connect(address)
        print('reached the other run')
    except OSError as exc:
        print('refused:', type(exc).__name__)
"""


@needs_bwrap
async def test_runs_cannot_reach_each_other(make_runner: MakeRunner) -> None:
    runner: Runner = await hostile_runner(make_runner, "cgroup", per_user=5)
    if not runner.namespaces:
        pytest.skip("private namespaces per run are not available here")
    server = runner.run(SERVER, timeout=8)
    first = None
    async for event in server:
        first = event
        if getattr(event, "text", None):
            break
    assert first is not None and getattr(first, "text", "") == "own loopback: ping"  # a loopback of its own
    events, _ = await collect(runner.run(CLIENT))
    assert [o.text for o in lines(events)] == ["refused: ConnectionRefusedError"] * 2
    server.cancel()
    await server.wait()


async def test_a_fork_bomb_is_bounded_by_the_runs_pids(make_runner: MakeRunner, lag: LagProbe) -> None:
    runner = await hostile_runner(make_runner, "cgroup", processes=16)
    shm = host_shm_ids()
    code = """\
import os, time
made = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        made += 1
except OSError as exc:
    print(made, type(exc).__name__, flush=True)
"""
    start = time.perf_counter()
    events, done = await collect(runner.run(code))
    made, error = lines(events)[0].text.split()
    assert done.status == Status.OK and error == "BlockingIOError" and int(made) < 16
    assert time.perf_counter() - start < 4  # its sleeping children were ended with the run
    assert lag.worst < LAG_LIMIT
    await asyncio.sleep(0)
    assert_host_clean(runner, shm)
    await assert_next_run_works(runner)


CHMOD_TRAP = """\
import os
here = os.getcwd()
print(here, os.path.basename(here).startswith('corobot-run-') and len(os.path.basename(here)) > 30)
os.makedirs('a/b/c')
open('a/b/c/f', 'w').write('x')
for path in ('a/b/c', 'a/b', 'a', '.'):
    os.chmod(path, 0)
"""


@pytest.mark.parametrize("supervised", [False, True])
async def test_without_namespaces_a_runs_directory_is_unpredictable_and_removed(
    make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch, supervised: bool
) -> None:
    """No private /tmp (no bubblewrap, or no root): the run's directory has a random name and goes, chmod or not."""
    if supervised:
        monkeypatch.setattr(sandbox, "can_switch_uid", lambda: False)
    runner = await make_runner(sandbox="off")
    events, done = await collect(runner.run(CHMOD_TRAP))
    assert done.status == Status.OK, done
    where, unpredictable = lines(events)[0].text.split()
    assert unpredictable == "True"
    assert not await asyncio.to_thread(os.path.exists, where)
