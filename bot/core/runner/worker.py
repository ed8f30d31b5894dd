"""The warm worker (stdlib only): `python -I -u worker.py [OPTIONS] SOCKET_FD`, usually in bubblewrap.

Options: `--uids=FIRST:END` (we are root: a uid per run), `--namespaces=TMP_BYTES:INODES` (private
namespaces per run), `--keep=PATH:PATH` (sandbox paths under /tmp to carry into each run's /tmp),
`--seccomp-fd=N` (the syscall filter as BPF, built by the parent with libseccomp).

It imports asyncio and the harness once, says hello (with the isolation layers it could set up) on its unix
socket, then waits for requests.  Each request is a JSON header plus file descriptors sent with SCM_RIGHTS:
the code (a memfd; the run's standard input follows the code in it, `stdin_bytes` long), the event pipe, the
raw stdout and stderr pipes, the run's control socket, and the `cgroup.procs` of the run's slot (one per
cgroup hierarchy, none without cgroups).  The program reads its stdin from a sealed memfd of its own (or
/dev/null).  The parent reads the pipes itself, so the worker never relays output; it only forks *program*
processes, ahead of time (a spare waits for the next request).  The spare does everything that does not depend
on the run before the request arrives: the harness's warm-up, its private mount/IPC/network namespaces with
their own /tmp, /dev/shm and loopback (isolate.py), no-new-privileges and the seccomp filter.  At request time
it joins the slot's cgroups, takes the run's uid (which drops every capability), its rlimits, and runs the
harness.  The program gets code, events, stdout and stderr — never the control socket, which is how the end of
a run is reported, so it cannot forge one.

Who supervises a run depends on the uid:

* **As root** (`--uids`; `procs.Runs`), the worker itself: it is the child subreaper of everything below
  it, watches each run's control socket (the parent asks for a kill, or dies and it reaches EOF) and
  learns of exits from SIGCHLD.  When a program ends, or is to be killed, one `kill(-1)` as the run's uid
  ends every process of the run; the worker reaps them all and reports `exit` with the wait status and
  CPU time on the control socket.
* **Without root** there is no uid to tell one run's processes from another's, so each run gets a
  *supervisor* process, a subreaper of its own forked together with the program (`_supervise`).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import fcntl
import gc
import importlib.util
import itertools
import json
import logging
import os
import resource
import select
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NoReturn

log = logging.getLogger(__name__)

SPARE_DELAY = 0.002  # seconds of quiet before the next spare is forked
MAX_FDS = 16  # descriptors in one request
PR_SET_DUMPABLE = 4
# Imported once here, so programs find them loaded: what the lessons use.  Not more: every module loaded
# here makes each fork dearer (page tables, copy-on-write); in the sandbox anything else imports from the
# read-only stdlib (without it, as root under a private prefix such as /root, only these are importable).
WARM_IMPORTS = (
    "asyncio", "collections", "concurrent.futures", "contextlib", "dataclasses", "datetime",
    "encodings.idna",  # socket's name lookups need it
    "enum", "functools", "itertools", "json", "math", "queue", "random", "re", "socket", "string",
    "textwrap", "threading", "time", "typing",
)


def _load_sibling(name: str) -> ModuleType:
    """A module of this directory: run as a script in the sandbox, the `bot` package is not importable."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"corobot_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from bot.core.runner import isolate, procs
else:
    procs = _load_sibling("procs")
    isolate = _load_sibling("isolate")


def _set_limits(req: dict[str, Any]) -> None:
    cpu = int(req["cpu_seconds"])
    limits = {
        resource.RLIMIT_CPU: (cpu, cpu + 1),
        resource.RLIMIT_FSIZE: (int(req["file_size_mb"]) * 1024 * 1024,) * 2,
        resource.RLIMIT_NOFILE: (int(req["open_files"]),) * 2,
        resource.RLIMIT_CORE: (0, 0),
    }
    if req.get("address_space_mb"):  # without a memory cgroup: per process
        limits[resource.RLIMIT_AS] = (int(req["address_space_mb"]) * 1024 * 1024,) * 2
    if req.get("uid") is not None:  # only enforced for a non-root uid of the run's own
        limits[resource.RLIMIT_NPROC] = (int(req["processes"]),) * 2
    for which, value in limits.items():
        resource.setrlimit(which, value)


def _program(chan: socket.socket, child: ModuleType, setup: isolate.Setup) -> NoReturn:
    """A pre-forked program process: isolate itself, wait for the run's fds, take the run's identity, run."""
    signal.set_wakeup_fd(-1)  # the worker's, inherited: our signals are not its business
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    parent = os.getppid()
    harness = child.prepare()
    problem = isolate.prepare_spare(setup)
    try:
        msg, fds, _, _ = socket.recv_fds(chan, 65536, MAX_FDS)
    except OSError:
        os._exit(0)
    if not msg or len(fds) < 4:
        os._exit(0)
    chan.close()
    code_fd, event_fd, out_fd, err_fd, *cgroup_fds = fds
    started = False
    report_fd = event_fd
    try:
        if problem:
            raise RuntimeError(problem)
        req = json.loads(msg)
        isolate.join_cgroups(cgroup_fds)
        with os.fdopen(code_fd, "rb") as f:
            code = f.read()
        code, stdin = _split_stdin(code, req.get("stdin_bytes"))
        os.setsid()
        os.dup2(_stdin_fd(stdin), 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        keep = report_fd = os.dup2(event_fd, 3, inheritable=False)
        os.closerange(4, 65536)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _set_limits(req)
        uid = req.get("uid")
        if uid is not None:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)  # the effective and permitted capabilities go with uid 0
        isolate.drop_capabilities()
        procs.LIBC.prctl(procs.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after the uid change, which clears it
        if os.getppid() != parent:  # our supervisor (the worker, as root) died before that
            os._exit(70)
        tmp = req.get("tmp") or "/tmp"
        if req.get("tmp"):  # no private /tmp: a directory of our own, named by the worker at random
            os.mkdir(tmp, 0o700)
        os.chdir(tmp)
        os.environ["TMPDIR"] = tmp
        os.environ["HOME"] = tmp
        started = True
        child.run_program(harness, code, req["name"], keep, int(req["output_bytes"]), int(req["output_lines"]))
    except BaseException as exc:
        if not started:
            procs.send(report_fd, _failure(exc))
        else:  # the harness ran: whatever went wrong happened while the program ran
            child.report_crash(harness, exc)
    os._exit(70)


def _split_stdin(data: bytes, size: Any) -> tuple[bytes, bytes]:
    """The code memfd holds the program, then `size` bytes of its standard input."""
    if type(size) is not int or not 0 < size <= len(data):
        return data, b""
    return data[: len(data) - size], data[len(data) - size :]


def _stdin_fd(data: bytes) -> int:
    """A descriptor to read `data` from: /dev/null when there is none, else a sealed memfd (read-only data,
    charged to the run's cgroup, which this process has joined; a file, so reading it can never block)."""
    if not data:
        return os.open(os.devnull, os.O_RDONLY)
    fd = os.memfd_create("stdin", os.MFD_CLOEXEC | os.MFD_ALLOW_SEALING)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
    fcntl.fcntl(fd, fcntl.F_ADD_SEALS, fcntl.F_SEAL_WRITE | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_SEAL)
    return fd


def _failure(exc: BaseException) -> dict[str, Any]:
    return {"k": "fail", "m": f"could not start the program: {type(exc).__name__}: {exc}"[:500]}


def _spawn_program(sock: socket.socket, child: ModuleType, setup: isolate.Setup, slot: int | None) -> Spare:
    """Fork a spare program process, already in `slot`'s cgroups (joining one costs a grace period of the
    kernel's RCU, ~10 ms on an idle machine: done here, ahead of the request, not on its path)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        signal.set_wakeup_fd(-1)
        isolate.join_cgroups(setup.slots[slot] if slot is not None else [], close=False)
        keep = theirs.fileno()
        os.closerange(3, keep)  # other runs' pipes and control sockets must not be held open by us
        os.closerange(keep + 1, 65536)
        _program(theirs, child, setup)
    theirs.close()
    return Spare(ours, pid, None, slot)


# --- without root: a supervisor process per run ------------------------------------------------------------


def _spawn_pair(sock: socket.socket, child: ModuleType, setup: isolate.Setup, slot: int | None) -> Spare:
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
        _supervise(sup_end, prog_end, child, setup, slot)
    sup_end.close()
    prog_end.close()
    return Spare(to_prog, pid, to_sup, slot)


def _supervise(
    chan: socket.socket, prog_chan: socket.socket, child: ModuleType, setup: isolate.Setup, slot: int | None
) -> NoReturn:
    """Run one program below us (a subreaper): kill its process group on request, then whatever is left
    below us; report `exit` on the run's control socket, which the program never held."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    procs.LIBC.prctl(procs.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    procs.LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # the program (same uid) cannot read or write our memory
    pid = os.fork()
    if pid == 0:
        chan.close()
        isolate.join_cgroups(setup.slots[slot] if slot is not None else [], close=False)
        _program(prog_chan, child, setup)
    prog_chan.close()
    try:
        msg, fds, _, _ = socket.recv_fds(chan, 65536, MAX_FDS)
    except OSError:
        msg, fds = b"", []
    if not msg or len(fds) != 1:  # the worker is gone: nothing to run
        os.kill(pid, signal.SIGKILL)
        os._exit(0)
    chan.close()
    control = socket.socket(fileno=fds[0])
    tmp = json.loads(msg).get("tmp")
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    poller.register(control, select.POLLIN)
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
    if tmp:
        procs.remove_tree(tmp)
    cpu = usage.ru_utime + usage.ru_stime
    procs.report(control, {"k": "exit", "status": status, "cpu": cpu, "end": end, "killed": killed})
    os._exit(0)


# --- the request loop ---------------------------------------------------------------------------------------

SPARES = 2  # pre-forked spares (with cgroups: one for each of the next slots the parent will use)


@dataclass
class Spare:
    """A pre-forked program (and, without root, its supervisor): its channel and the slot it has joined."""

    chan: socket.socket  # to the program
    pid: int  # the program (root) or its supervisor
    sup: socket.socket | None  # to the supervisor (without root)
    slot: int | None  # the cgroup slot it is in already

    def close(self) -> None:
        self.chan.close()
        if self.sup is not None:
            self.sup.close()


def _read_request(msg: bytes, fds: list[int], setup: isolate.Setup) -> tuple[dict[str, Any], bytes] | None:
    """The request and its re-encoded form with the run's temp dir; None (after saying why) if unreadable."""
    try:
        req = json.loads(msg)
        if len(fds) != 5:
            raise ValueError(f"{len(fds)} file descriptors instead of 5")
        slot = req.get("slot")
        if slot is not None and not (type(slot) is int and 0 <= slot < len(setup.slots)):
            raise ValueError(f"no cgroup slot {slot!r}")
        if setup.namespaces is None:  # a shared /tmp: a directory of the run's own, unpredictably named
            req["tmp"] = os.path.join(req["tmp_root"], f"corobot-run-{os.urandom(12).hex()}")
        else:
            req["tmp"] = None
    except (ValueError, KeyError, TypeError) as exc:
        if len(fds) >= 5:
            procs.report(socket.socket(fileno=os.dup(fds[4])), {"k": "fail", "m": f"unreadable request: {exc}"})
        for fd in fds:
            os.close(fd)
        return None
    return req, json.dumps(req).encode()


class _Worker:
    """The request loop; see the module docstring for its two modes."""

    def __init__(self, sock: socket.socket, child: ModuleType, setup: isolate.Setup) -> None:
        self.sock, self.child, self.setup = sock, child, setup
        self.poller = select.poll()
        self.poller.register(sock, select.POLLIN)
        self.runs: procs.Runs | None = None
        self.wake_r = -1
        if setup.uids is not None:
            for uid in setup.uids:  # what a worker that died left running (only visible without the sandbox)
                procs.kill_uid(uid)
            procs.LIBC.prctl(procs.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            self.runs = procs.Runs(self.poller, on_end=self.slot_ended)
            self.wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # a handler: SIGCHLD reaches wake_w
            signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
            self.poller.register(self.wake_r, select.POLLIN)
        else:
            procs.LIBC.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # runs share our uid: keep them out of our memory
            signal.signal(signal.SIGCHLD, self.reap)
        self.spares: list[Spare] = []
        # Slots in the order the parent takes them (least recently used first), so the spares can join the
        # cgroups of the next ones ahead of time.
        self.free = collections.deque(range(len(setup.slots)))
        self.supervisors: dict[int, int] = {}  # without root: supervisor pid -> slot

    def spawn(self, slot: int | None) -> Spare:
        if self.runs is not None:
            return _spawn_program(self.sock, self.child, self.setup, slot)
        spare = _spawn_pair(self.sock, self.child, self.setup, slot)
        if slot is not None:
            self.supervisors[spare.pid] = slot
        return spare

    def wanted(self) -> tuple[bool, int | None]:
        """Whether a spare is missing, and the slot it should join (None: any; no cgroups)."""
        if len(self.spares) >= SPARES or (not self.setup.slots and self.spares):
            return False, None
        if not self.setup.slots:
            return True, None
        taken = {spare.slot for spare in self.spares}
        slot = next((slot for slot in itertools.islice(self.free, SPARES) if slot not in taken), None)
        return slot is not None, slot

    def replenish(self) -> None:
        """Make one missing spare, if one is missing."""
        missing, slot = self.wanted()
        if missing:
            self.spares.append(self.spawn(slot))

    def slot_ended(self, slot: int | None) -> None:
        if slot is not None and slot not in self.free:
            self.free.append(slot)

    def reap(self, signum: int, frame: object) -> None:
        """Without root: reap supervisors (and spares that died); a supervisor's end frees its slot."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.slot_ended(self.supervisors.pop(pid, None))

    def serve(self, hello: dict[str, Any]) -> int:
        self.replenish()
        self.sock.sendall(json.dumps({"ready": True, "pid": os.getpid(), "euid": os.geteuid(), **hello}).encode())
        try:
            while True:
                # Spares are made once requests pause for SPARE_DELAY, so their warm-up does not compete for
                # the CPU with the start of the run that just went out; a burst makes them on demand.
                ready = self.poller.poll(SPARE_DELAY * 1000 if self.wanted()[0] else None)
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
                            msg, fds, _, _ = socket.recv_fds(self.sock, 65536, MAX_FDS)
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

    def take_spare(self, slot: int | None) -> Spare:
        """The spare already in `slot`'s cgroups if there is one, else any (it joins at request time)."""
        chosen = next((spare for spare in self.spares if spare.slot == slot), None)
        if chosen is None:
            chosen = self.spares[0] if self.spares else self.spawn(slot)
        if chosen in self.spares:
            self.spares.remove(chosen)
        return chosen

    def start(self, msg: bytes, fds: list[int]) -> None:
        """Hand one run to a spare (a new one if it died): the program gets code, events, stdout, stderr
        (and its slot's cgroups unless it joined them ahead); its supervisor, or we, keep the control socket."""
        request = _read_request(msg, fds, self.setup)
        if request is None:
            return
        req, data = request
        code_fd, event_fd, out_fd, err_fd, control_fd = fds
        control: socket.socket | None = socket.socket(fileno=control_fd)
        slot = req.get("slot") if self.setup.slots else None
        if slot is not None:
            with contextlib.suppress(ValueError):
                self.free.remove(slot)
        for attempt in range(2):
            spare = self.take_spare(slot)
            join = self.setup.slots[slot] if slot is not None and spare.slot != slot else []
            try:
                socket.send_fds(spare.chan, [data], [code_fd, event_fd, out_fd, err_fd, *join])
                if spare.sup is not None:
                    socket.send_fds(spare.sup, [data], [control_fd])
                    if spare.slot != slot:
                        self.supervisors.pop(spare.pid, None)
                        if slot is not None:
                            self.supervisors[spare.pid] = slot
            except OSError as exc:  # the spare died: make another and try once more
                spare.close()
                if attempt and control is not None:
                    procs.report(control, {"k": "fail", "m": f"the worker could not start the run: {exc}"})
                    self.slot_ended(slot)
                    break
                continue
            spare.close()
            if self.runs is not None and control is not None:
                self.runs.add(procs.Run(spare.pid, req.get("uid"), req["tmp"], control, slot))
                control = None
            break
        for fd in (code_fd, event_fd, out_fd, err_fd):
            os.close(fd)
        if control is not None:
            control.close()


def main(argv: list[str]) -> int:
    sock = socket.socket(fileno=int(argv[-1]))
    child = _load_sibling("child")
    setup, hello = isolate.options(argv)
    for name in WARM_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    asyncio.DefaultEventLoopPolicy()  # touch the policy machinery once before forking
    gc.collect()
    gc.freeze()  # children's collections then skip (and do not copy-on-write) everything loaded so far
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return _Worker(sock, child, setup).serve(hello)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
