"""The warm worker (stdlib only): `python -I -u worker.py SOCKET_FD`, usually inside bubblewrap.

It imports asyncio and the harness once, says `ready` on its unix socket, then waits for requests.  Each
request is a JSON header plus five file descriptors sent with SCM_RIGHTS: the code (a memfd), the event
pipe, the raw stdout and stderr pipes and a control pipe.  The parent reads the pipes itself, so the
worker only forks: per run a *supervisor* (a child subreaper) which forks the *program* process.

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


def _program(req: dict[str, Any], code: bytes, fds: list[int], child: ModuleType, tmp: str) -> NoReturn:
    _, event_fd, out_fd, err_fd, control_fd = fds
    try:
        os.setsid()
        os.close(control_fd)
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
        os.chdir(tmp)
        os.environ["TMPDIR"] = tmp
        os.environ["HOME"] = tmp
        child.run_program(code, req["name"], keep, int(req["output_bytes"]), int(req["output_lines"]))
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

    With `tmp`, the killer (as the run's uid, so no CAP_DAC_OVERRIDE is needed) also removes the run's dir.
    """
    if uid is not None:
        killer = os.fork()
        if killer == 0:
            try:
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
                if tmp is not None:
                    shutil.rmtree(tmp, ignore_errors=True)
            finally:
                os._exit(0)
        os.waitpid(killer, 0)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _supervise(sock: socket.socket, req: dict[str, Any], fds: list[int], child: ModuleType) -> NoReturn:
    code_fd, event_fd, out_fd, err_fd, control_fd = fds
    sock.close()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    with os.fdopen(code_fd, "rb") as f:
        code = f.read()
    uid: int | None = req.get("uid")
    tmp = os.path.join(req["tmp_root"], f"corobot-run-{req['id']}-{os.getpid()}")
    os.mkdir(tmp, 0o700)
    if uid is not None:
        os.chown(tmp, uid, uid)
    pid = os.fork()
    if pid == 0:
        _program(req, code, fds, child, tmp)
    os.close(out_fd)
    os.close(err_fd)
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
    signal.signal(signal.SIGCHLD, _reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock.sendall(json.dumps({"ready": True, "pid": os.getpid(), "euid": os.geteuid()}).encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 65536, 8)
        except OSError:
            return 1
        if not msg:
            return 0
        try:
            req = json.loads(msg)
            pid = os.fork()
        except Exception as exc:
            if len(fds) > 1:
                _send(fds[1], {"k": "fail", "m": f"the worker could not start the run: {exc}"})
            pid = -1
        if pid == 0:
            try:
                _supervise(sock, req, fds, child)
            except BaseException as exc:
                _send(fds[1], {"k": "fail", "m": f"the run's supervisor failed: {type(exc).__name__}: {exc}"})
            os._exit(70)
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
