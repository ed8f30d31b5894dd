"""The warm worker (stdlib only): `python -I -u worker.py SOCKET_FD`, usually inside bubblewrap.

It imports asyncio and the harness once, says `ready` on its unix socket, then waits for requests.  Each
request is a JSON header plus five file descriptors sent with SCM_RIGHTS: the code (a memfd), the event
pipe, the raw stdout and stderr pipes and a control pipe.  The parent reads the pipes itself, so the
worker only forks: per run a *supervisor* (a child subreaper) which forks the *program* process.  Both
are forked ahead of time (one spare pair waits for the next request), so a run starts without a fork.

The program process gets its own session, rlimits, an empty supplementary group list and, when we are
root, a uid/gid of its own for this run (so RLIMIT_NPROC applies and one `kill(-1)` as that uid ends every
process the run started, including ones that called `setsid()`), then the harness runs the code.

The supervisor waits for the program to exit or for the control pipe to become readable (the parent asks
for a kill by writing to it, or dies and it reaches EOF).  Then it kills every remaining process of the
run, reaps all of them (orphans are reparented to it), removes the run's temp dir and sends an `exit`
event with the wait status and CPU time.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import importlib.util
import json
import logging
import os
import resource
import select
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36
SPARE_DELAY = 0.002  # seconds of quiet before the next spare supervisor+program pair is forked
_LIBC = ctypes.CDLL(None, use_errno=True)
WARM_IMPORTS = (  # imported once here so a fork costs nothing (and the program's uid need not read them)
    "asyncio",
    "collections",
    "concurrent.futures",
    "contextlib",
    "dataclasses",
    "datetime",
    "decimal",
    "encodings.idna",
    "enum",
    "functools",
    "itertools",
    "json",
    "math",
    "queue",
    "random",
    "re",
    "socket",
    "statistics",
    "string",
    "textwrap",
    "threading",
    "time",
    "typing",
    "unittest.mock",
    "urllib.parse",
    "uuid",
)


def _load_child() -> ModuleType:
    path = Path(__file__).with_name("child.py")
    spec = importlib.util.spec_from_file_location("corobot_child", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _send(fd: int, obj: dict[str, Any]) -> None:
    data = (json.dumps(obj) + "\n").encode()
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]


def _set_limits(req: dict[str, Any]) -> None:
    cpu = int(req["cpu_seconds"])
    limits = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_AS: (int(req["memory_mb"]) * 1024 * 1024,) * 2,
        resource.RLIMIT_FSIZE: (int(req["file_size_mb"]) * 1024 * 1024,) * 2,
        resource.RLIMIT_NOFILE: (int(req["open_files"]),) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    if req.get("uid") is not None:  # only enforced for a non-root uid of the run's own
        limits[resource.RLIMIT_NPROC] = (int(req["processes"]),) * 2
    for which, value in limits.items():
        resource.setrlimit(which, value)


def _program(chan: socket.socket, child: ModuleType) -> NoReturn:
    """A pre-forked program process: wait for the run's fds, lock itself down, run the harness."""
    harness = child.prepare()
    try:
        msg, fds, _, _ = socket.recv_fds(chan, 65536, 8)
    except OSError:
        os._exit(0)
    if not msg:
        os._exit(0)
    chan.close()
    req = json.loads(msg)
    code_fd, event_fd, out_fd, err_fd = fds
    tmp = req["tmp"]
    try:
        with os.fdopen(code_fd, "rb") as f:
            code = f.read()
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        keep = os.dup2(event_fd, 3, inheritable=False)
        os.closerange(4, 65536)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _set_limits(req)
        uid = req.get("uid")
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
        os.mkdir(tmp, 0o700)  # as the run's uid: the supervisor's killer removes it as that uid too
        os.chdir(tmp)
        os.environ["TMPDIR"] = tmp
        os.environ["HOME"] = tmp
        child.run_program(harness, code, req["name"], keep, int(req["output_bytes"]), int(req["output_lines"]))
    except BaseException as exc:
        _send(3, {"k": "fail", "m": f"could not start the program: {type(exc).__name__}: {exc}"})
    os._exit(70)


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


def _kill_all(uid: int | None, pid: int, tmp: str | None = None) -> None:
    """SIGKILL every process of the run: one atomic kill(-1) as its uid, then whatever is left below us.

    For the kill(-1) we take the run's uid as real and effective uid (which drops our effective
    capabilities) and keep 0 as the saved uid to come back: it then reaches exactly the processes whose
    real or saved uid is the run's, and the kernel holds the task list while it sends, so a fork bomb
    cannot outrun it.  With `tmp`, the run's temp dir is removed with the same identity.
    """
    if uid is not None:
        os.setresuid(uid, uid, 0)
        try:
            os.kill(-1, signal.SIGKILL)
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        except ProcessLookupError:  # nothing left to kill
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            os.setresuid(0, 0, 0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _spawn_spare(sock: socket.socket, child: ModuleType) -> tuple[socket.socket, socket.socket]:
    """Fork a spare supervisor, which forks its spare program, so a request costs no fork at all.

    Returns our ends of the channels to the supervisor and to the program: a request goes to both at
    once, so the program starts without waiting for its supervisor to wake up first.
    """
    to_sup, sup_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    to_prog, prog_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        sock.close()
        to_sup.close()
        to_prog.close()
        _supervise(sup_end, prog_end, child)
    sup_end.close()
    prog_end.close()
    return to_sup, to_prog


def _supervise(chan: socket.socket, prog_chan: socket.socket, child: ModuleType) -> NoReturn:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _LIBC.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    pid = os.fork()
    if pid == 0:
        chan.close()
        _program(prog_chan, child)
    prog_chan.close()
    try:
        msg, fds, _, _ = socket.recv_fds(chan, 65536, 8)
    except OSError:
        msg, fds = b"", []
    if not msg:  # the worker is gone: nothing to run
        os.kill(pid, signal.SIGKILL)
        os._exit(0)
    chan.close()
    event_fd, control_fd = fds
    req = json.loads(msg)
    uid: int | None = req.get("uid")
    tmp = req["tmp"]
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(control_fd, select.POLLIN)
    killed = False
    if not any(fd == pidfd for fd, _ in poller.poll()):
        killed = True
        _kill_all(uid, pid)
    _, status, usage = os.wait4(pid, 0)
    end = time.perf_counter()
    _kill_all(uid, pid, tmp)
    while True:  # reap everything reparented to us; kill what is still alive (no uid of its own)
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if reaped == 0:
            for stray in _children(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(stray, signal.SIGKILL)
            time.sleep(0.002)
    shutil.rmtree(tmp, ignore_errors=True)  # as root: the contents are gone already, the dir is ours
    cpu = usage.ru_utime + usage.ru_stime
    _send(event_fd, {"k": "exit", "status": status, "cpu": cpu, "end": end, "killed": killed})
    os._exit(0)


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[1]))
    child = _load_child()
    for name in WARM_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    asyncio.DefaultEventLoopPolicy()  # touch the policy machinery once before forking
    gc.collect()
    gc.freeze()  # children's collections then skip (and do not copy-on-write) everything loaded so far
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    spare: tuple[socket.socket, socket.socket] | None = _spawn_spare(sock, child)
    sock.sendall(json.dumps({"ready": True, "pid": os.getpid(), "euid": os.geteuid()}).encode())
    while True:
        # The next spare is made once requests pause for SPARE_DELAY, so its warm-up does not compete
        # for the CPU with the start of the run that just went out; a burst makes them on demand.
        if spare is None and not select.select([sock], [], [], SPARE_DELAY)[0]:
            spare = _spawn_spare(sock, child)
            continue
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 65536, 8)
        except OSError:
            return 1
        if not msg:
            return 0
        try:
            req = json.loads(msg)
            req["tmp"] = os.path.join(req["tmp_root"], f"corobot-run-{os.getpid()}-{req['id']}")
            data = json.dumps(req).encode()
            code_fd, event_fd, out_fd, err_fd, control_fd = fds
        except (ValueError, KeyError) as exc:
            if len(fds) > 1:
                _send(fds[1], {"k": "fail", "m": f"the worker could not read the request: {exc}"})
            data = b""
        if spare is None:
            spare = _spawn_spare(sock, child)
        for attempt in range(2 if data else 0):
            try:
                socket.send_fds(spare[1], [data], [code_fd, event_fd, out_fd, err_fd])
                socket.send_fds(spare[0], [data], [event_fd, control_fd])
                break
            except OSError as exc:  # the spare died: make another and try once more
                for end in spare:
                    end.close()
                spare = _spawn_spare(sock, child)
                if attempt:
                    _send(event_fd, {"k": "fail", "m": f"the worker could not start the run: {exc}"})
        for fd in fds:
            os.close(fd)
        for end in spare:
            end.close()
        spare = None


if __name__ == "__main__":
    sys.exit(main(sys.argv))
