"""The warm worker (stdlib only): `python -I -u worker.py [--uids=FIRST:END] SOCKET_FD`, usually in bubblewrap.

It imports asyncio and the harness once, says `ready` on its unix socket, then waits for requests.  Each
request is a JSON header plus five file descriptors sent with SCM_RIGHTS: the code (a memfd), the event
pipe, the raw stdout and stderr pipes and a control pipe.  The parent reads the pipes itself, so the
worker only forks the *program* process of each run, ahead of time (a spare waits for the next request),
so a run starts without a fork.

The program process gets its own session, rlimits, an empty supplementary group list and, when we are
root, a uid/gid of its own for this run (so RLIMIT_NPROC applies and one `kill(-1)` as that uid ends every
process the run started, including ones that called `setsid()`), then the harness runs the code.

Who supervises a run depends on that uid:

* **As root** (`--uids`; `procs.Runs`), the worker itself: it is the child subreaper of everything below it, watches
  each run's control pipe (the parent asks for a kill by writing to it, or dies and it reaches EOF) and
  learns of exits from SIGCHLD.  When a program ends, or is to be killed, one `kill(-1)` as the run's uid
  ends every process of the run; the worker reaps them all, removes the run's temp dir and sends an
  `exit` event with the wait status and CPU time.  One process per run: a burst of 200 runs costs ~40 %
  less CPU than with a supervisor process each.
* **Without root** there is no uid to tell one run's processes from another's, so each run gets a
  *supervisor* process, a subreaper of its own forked together with the program (`_supervise`), which
  does the same for the processes below it.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from typing import TYPE_CHECKING, Any, NoReturn

log = logging.getLogger(__name__)

SPARE_DELAY = 0.002  # seconds of quiet before the next spare is forked
# Imported once here, so programs find them loaded: what the lessons use.  Not more: every module loaded
# here makes each fork dearer (page tables, copy-on-write); in the sandbox anything else imports from the
# read-only stdlib (without it, as root under a private prefix such as /root, only these are importable).
WARM_IMPORTS = (
    "asyncio",
    "collections",
    "concurrent.futures",
    "contextlib",
    "dataclasses",
    "datetime",
    "encodings.idna",  # socket's name lookups need it
    "enum",
    "functools",
    "itertools",
    "json",
    "math",
    "queue",
    "random",
    "re",
    "socket",
    "string",
    "textwrap",
    "threading",
    "time",
    "typing",
)


def _load_sibling(name: str) -> ModuleType:
    """A module of this directory: run as a script in the sandbox, the `bot` package is not importable."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"corobot_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from bot.core.runner import procs
else:
    procs = _load_sibling("procs")


def _reap(signum: int, frame: object) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


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
    signal.set_wakeup_fd(-1)  # the worker's, inherited: our signals are not its business
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    parent = os.getppid()
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
        procs.LIBC.prctl(procs.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after the uid change, which clears it
        if os.getppid() != parent:  # our supervisor (the worker, as root) died before that
            os._exit(70)
        os.mkdir(tmp, 0o700)  # as the run's uid: the supervisor's killer removes it as that uid too
        os.chdir(tmp)
        os.environ["TMPDIR"] = tmp
        os.environ["HOME"] = tmp
        child.run_program(harness, code, req["name"], keep, int(req["output_bytes"]), int(req["output_lines"]))
    except BaseException as exc:
        procs.send(3, {"k": "fail", "m": f"could not start the program: {type(exc).__name__}: {exc}"})
    os._exit(70)


def _spawn_program(sock: socket.socket, child: ModuleType) -> tuple[socket.socket, int]:
    """Fork a spare program process; returns our end of its channel and its pid."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        keep = theirs.fileno()
        os.closerange(3, keep)  # other runs' event and control pipes must not be held open by us
        os.closerange(keep + 1, 65536)
        _program(theirs, child)
    theirs.close()
    return ours, pid


# --- without root: a supervisor process per run ------------------------------------------------------------


def _spawn_pair(sock: socket.socket, child: ModuleType) -> tuple[socket.socket, socket.socket]:
    """Fork a spare supervisor, which forks its spare program.

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
    """Run one program below us (a subreaper): kill its process group on request, then whatever is left
    below us; report `exit`."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    procs.LIBC.prctl(procs.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
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
    tmp = json.loads(msg)["tmp"]
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(control_fd, select.POLLIN)
    killed = False
    if not any(fd == pidfd for fd, _ in poller.poll()):
        killed = True
        procs.kill_group(pid)
    _, status, usage = os.wait4(pid, 0)
    end = time.perf_counter()
    procs.kill_group(pid)
    while True:  # reap everything reparented to us; kill what is still alive
        try:
            reaped, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if reaped == 0:
            for stray in procs.children(os.getpid()):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(stray, signal.SIGKILL)
            time.sleep(0.002)
    shutil.rmtree(tmp, ignore_errors=True)
    cpu = usage.ru_utime + usage.ru_stime
    procs.send(event_fd, {"k": "exit", "status": status, "cpu": cpu, "end": end, "killed": killed})
    os._exit(0)


# --- the request loop ---------------------------------------------------------------------------------------

Spare = tuple[socket.socket, int] | tuple[socket.socket, socket.socket]


def _read_request(msg: bytes, fds: list[int]) -> tuple[dict[str, Any], bytes] | None:
    """The request and its re-encoded form with the run's temp dir; None (after saying why) if unreadable."""
    try:
        req = json.loads(msg)
        req["tmp"] = os.path.join(req["tmp_root"], f"corobot-run-{os.getpid()}-{req['id']}")
        if len(fds) != 5:
            raise ValueError(f"{len(fds)} file descriptors instead of 5")
    except (ValueError, KeyError) as exc:
        if len(fds) > 1:
            procs.send(fds[1], {"k": "fail", "m": f"the worker could not read the request: {exc}"})
        for fd in fds:
            os.close(fd)
        return None
    return req, json.dumps(req).encode()


class _Worker:
    """The request loop; see the module docstring for its two modes."""

    def __init__(self, sock: socket.socket, child: ModuleType, uids: range | None) -> None:
        self.sock, self.child = sock, child
        self.poller = select.poll()
        self.poller.register(sock, select.POLLIN)
        self.runs: procs.Runs | None = None
        self.wake_r = -1
        if uids is not None:
            for uid in uids:  # what a worker that died left running (only visible without the sandbox)
                procs.kill_uid(uid)
            procs.LIBC.prctl(procs.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            self.runs = procs.Runs(self.poller)
            self.wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a handler: SIGCHLD reaches wake_w
            signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
            self.poller.register(self.wake_r, select.POLLIN)
        else:
            signal.signal(signal.SIGCHLD, _reap)
        self.spare: Spare | None = None

    def spawn(self) -> Spare:
        return _spawn_program(self.sock, self.child) if self.runs is not None else _spawn_pair(self.sock, self.child)

    def replenish(self) -> None:
        if self.spare is None:
            self.spare = self.spawn()

    def serve(self) -> int:
        self.replenish()
        self.sock.sendall(json.dumps({"ready": True, "pid": os.getpid(), "euid": os.geteuid()}).encode())
        try:
            while True:
                # The next spare is made once requests pause for SPARE_DELAY, so its warm-up does not
                # compete for the CPU with the start of the run that just went out; a burst makes them on
                # demand.
                ready = self.poller.poll(None if self.spare is not None else SPARE_DELAY * 1000)
                if not ready:
                    self.replenish()
                for fd, _ in ready:
                    if fd == self.wake_r:
                        with contextlib.suppress(BlockingIOError):
                            os.read(self.wake_r, 4096)
                    elif self.runs is not None and fd in self.runs.by_control:
                        self.runs.kill(self.runs.by_control[fd])
                    elif fd == self.sock.fileno():
                        try:
                            msg, fds, _, _ = socket.recv_fds(self.sock, 65536, 8)
                        except OSError:
                            return 1
                        if not msg:
                            return 0
                        self.start(msg, fds)
                if self.runs is not None:
                    self.runs.collect()
                    self.runs.finish_ended()
        finally:
            if self.runs is not None:
                self.runs.kill_all()

    def start(self, msg: bytes, fds: list[int]) -> None:
        """Hand one run to the spare (a new one if it died): the program gets code, events, stdout and
        stderr; its supervisor, or we, keep events and control."""
        request = _read_request(msg, fds)
        if request is None:
            return
        req, data = request
        code_fd, event_fd, out_fd, err_fd, control_fd = fds
        for attempt in range(2):
            self.replenish()
            spare = self.spare
            assert spare is not None
            try:
                if isinstance(spare[1], socket.socket):
                    socket.send_fds(spare[1], [data], [code_fd, event_fd, out_fd, err_fd])
                    socket.send_fds(spare[0], [data], [event_fd, control_fd])
                else:
                    socket.send_fds(spare[0], [data], [code_fd, event_fd, out_fd, err_fd])
            except OSError as exc:  # the spare died: make another and try once more
                if attempt:
                    procs.send(event_fd, {"k": "fail", "m": f"the worker could not start the run: {exc}"})
                    break
                continue
            finally:
                _close_spare(spare)
                self.spare = None
            if self.runs is not None and isinstance(spare[1], int):
                self.runs.add(procs.Run(spare[1], req.get("uid"), req["tmp"], event_fd, control_fd))
                fds = [code_fd, out_fd, err_fd]  # we keep the events and control pipes
            break
        for fd in fds:
            os.close(fd)


def _close_spare(spare: Spare) -> None:
    for end in spare:
        if isinstance(end, socket.socket):
            end.close()


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[-1]))
    child = _load_sibling("child")
    for name in WARM_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    asyncio.DefaultEventLoopPolicy()  # touch the policy machinery once before forking
    gc.collect()
    gc.freeze()  # children's collections then skip (and do not copy-on-write) everything loaded so far
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    uids: range | None = None
    for arg in argv[1:-1]:
        if arg.startswith("--uids="):
            start, stop = arg.removeprefix("--uids=").split(":")
            uids = range(int(start), int(stop))
    return _Worker(sock, child, uids).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
