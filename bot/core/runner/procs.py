"""Ending a run's processes, and the worker's own supervision of runs as root (stdlib only).

Loaded by the worker (`worker.py`, run as a script in the sandbox) from its own directory.  See worker.py's
docstring for the two ways runs are supervised.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import select
import shutil
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36
PR_SET_PDEATHSIG = 1
GONE_TIMEOUT = 2.0  # seconds to wait for a finished run's last processes to be reaped
LIBC = ctypes.CDLL(None, use_errno=True)


def send(fd: int, obj: dict[str, Any]) -> None:
    """One JSON line on a pipe (a program's event pipe: what the spare says before the program runs)."""
    data = (json.dumps(obj) + "\n").encode()
    with contextlib.suppress(OSError):
        while data:
            data = data[os.write(fd, data) :]


def report(control: socket.socket, obj: dict[str, Any]) -> None:
    """One message on a run's control channel (never blocks: the parent reads it at once, or is gone)."""
    with contextlib.suppress(OSError):
        control.send(json.dumps(obj).encode(), socket.MSG_DONTWAIT)


def remove_tree(path: str) -> None:
    """Remove a run's directory even if the run took the permissions away (called as its owner or root,
    once every process of the run is gone)."""

    def reopen(name: str) -> None:
        if not os.path.islink(name):
            with contextlib.suppress(OSError):
                os.chmod(name, 0o700)

    reopen(path)
    for root, dirs, _ in os.walk(path):  # top-down: each directory is opened up before it is listed
        for name in dirs:
            reopen(os.path.join(root, name))
    shutil.rmtree(path, ignore_errors=True)


def children(parent: int) -> list[int]:
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


def kill_uid(uid: int, tmp: str | None = None) -> None:
    """SIGKILL every process of a run by its uid: one atomic kill(-1) as that uid.

    We take the run's uid as real and effective uid (which drops our effective capabilities) and keep 0
    as the saved uid to come back: kill(-1) then reaches exactly the processes whose real or saved uid is
    the run's, and the kernel holds the task list while it sends, so a fork bomb cannot outrun it.  With
    `tmp`, the run's temp dir is removed with the same identity (its owner: chmod tricks do not stop it).
    """
    os.setresuid(uid, uid, 0)
    try:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)
        if tmp is not None:
            remove_tree(tmp)
    finally:
        os.setresuid(0, 0, 0)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def own_children() -> list[int]:
    pid = os.getpid()
    try:
        with open(f"/proc/{pid}/task/{pid}/children", "rb") as f:
            return [int(x) for x in f.read().split()]
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN
        return children(pid)


def real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


# --- as root: the worker supervises every run itself ------------------------------------------------------


class Run:
    __slots__ = ("control", "cpu", "end", "killed", "pid", "slot", "status", "tmp", "uid")

    def __init__(
        self, pid: int, uid: int | None, tmp: str | None, control: socket.socket, slot: int | None = None
    ) -> None:
        self.pid, self.uid, self.tmp, self.control, self.slot = pid, uid, tmp, control, slot
        self.killed = False
        self.status = 0
        self.cpu = self.end = 0.0


class Runs:
    """The runs in flight, each a program process of ours with a uid of its own.  A run's control socket
    (which the program never holds) carries the parent's kill request in and our end-of-run report out."""

    def __init__(self, poller: select.poll, on_end: Callable[[int | None], None] | None = None) -> None:
        self.on_end = on_end  # told each finished run's slot
        self.by_pid: dict[int, Run] = {}
        self.by_control: dict[int, Run] = {}
        self.ended: list[Run] = []
        self.poller = poller

    def add(self, run: Run) -> None:
        self.by_pid[run.pid] = run
        self.by_control[run.control.fileno()] = run
        self.poller.register(run.control, select.POLLIN)

    def kill(self, run: Run) -> None:
        """The parent asked (or died): end every process of the run; its exit comes through `collect`."""
        run.killed = True
        self._unwatch(run)
        if run.uid is not None:
            kill_uid(run.uid)
        kill_group(run.pid)

    def kill_all(self) -> None:
        for run in list(self.by_pid.values()):
            self.kill(run)

    def collect(self) -> None:
        """Reap every child that has exited: a run's program goes to `ended` with its status and CPU time;
        anything else (what a run left behind, reparented to us; a spare that died) is just reaped."""
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            run = self.by_pid.pop(info.si_pid, None)
            if run is None:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(info.si_pid, 0)
                continue
            _, run.status, usage = os.wait4(run.pid, 0)
            run.end = time.perf_counter()
            run.cpu = usage.ru_utime + usage.ru_stime
            self.ended.append(run)

    def finish_ended(self) -> None:
        """For each run whose program exited: end what it left running, wait until all of it is reaped,
        remove its temp dir (without private namespaces), report `exit` on its control channel."""
        while self.ended:
            run = self.ended.pop(0)
            self._unwatch(run)
            if run.uid is not None:
                kill_uid(run.uid, run.tmp)
                self._wait_gone(run.uid)
            if run.tmp is not None:
                remove_tree(run.tmp)
            exit_report = {"k": "exit", "status": run.status, "cpu": run.cpu, "end": run.end, "killed": run.killed}
            report(run.control, exit_report)
            run.control.close()
            if self.on_end is not None:
                self.on_end(run.slot)

    def _wait_gone(self, uid: int) -> None:
        # Every process of a run descends from its program and we are the subreaper: by the time one of
        # them is reaped, its children are ours.  So the run is gone once no child of ours has its uid.
        deadline = time.monotonic() + GONE_TIMEOUT
        while time.monotonic() < deadline:
            self.collect()
            if not any(real_uid(pid) == uid for pid in own_children() if pid not in self.by_pid):
                return
            time.sleep(0.001)

    def _unwatch(self, run: Run) -> None:
        if self.by_control.pop(run.control.fileno(), None) is not None:
            self.poller.unregister(run.control)
