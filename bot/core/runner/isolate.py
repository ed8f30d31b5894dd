"""Per-run isolation done inside the worker's processes (stdlib only, loaded by worker.py from this directory).

* `private_proc()` — once, in the worker: a /proc of its own that shows each run uid only its own processes
  (`hidepid=invisible`; the worker, gid 0, still sees them all).
* `private_namespaces()` — in each pre-forked spare, *before* the request arrives: new mount, IPC and network
  namespaces, a size- and inode-capped tmpfs on /tmp and on /dev/shm, loopback up.  Nothing of it is
  shared with another run, and all of it disappears with the run's last process (no clean-up to defeat).
* `load_filter()` — in each spare, after that: no-new-privileges and the seccomp filter the parent built.
* `join_cgroups()` — in each spare, for the slot the runner hands out next (or at request time): the process
  writes "0" into the slot's `cgroup.procs` descriptors (opened by the parent, whose credentials the kernel
  checks).
* `options()` — the worker's command line, each layer probed once in a throw-away child (`probe()`).
"""

from __future__ import annotations

import ctypes
import fcntl
import logging
import os
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

LIBC = ctypes.CDLL(None, use_errno=True)
# Looked up once here, in the worker: a lookup made in each forked spare costs it ~0.3 ms of page faults.
for _name in ("mount", "unshare", "prctl", "syscall", "capset"):
    getattr(LIBC, _name)
CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE, MS_SLAVE = 2, 4, 8, 16384, 1 << 18, 1 << 19
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
SYS_OPEN_TREE, SYS_MOVE_MOUNT = 428, 429  # the same on x86_64 and aarch64 (numbers >= 424 are shared)
OPEN_TREE_CLONE, AT_RECURSIVE, MOVE_MOUNT_F_EMPTY_PATH = 1, 0x8000, 0x4
AT_FDCWD = -100
SHM_BYTES = 16 * 1024 * 1024


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(
        LIBC.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def private_proc() -> None:
    """In the worker (root, its own pid namespace): a private mount namespace with a /proc in which a run's
    uid sees only its own processes."""
    _check(LIBC.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_SLAVE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible,gid=0")


def private_namespaces(tmp_bytes: int, tmp_inodes: int, keep: Iterable[str] = ()) -> None:
    """New mount/IPC/network namespaces with a fresh /tmp and /dev/shm and loopback up.  `keep`: paths the
    sandbox binds under /tmp (a checkout or venv living there), carried over onto the new /tmp."""
    _check(LIBC.unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    trees = []
    for path in keep:
        tree = LIBC.syscall(SYS_OPEN_TREE, AT_FDCWD, path.encode(), OPEN_TREE_CLONE | AT_RECURSIVE)
        trees.append((path, _check(tree, f"open_tree {path}")))
    options = f"size={tmp_bytes},nr_inodes={tmp_inodes},mode=1777"
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, tree in trees:
        os.makedirs(path, mode=0o755, exist_ok=True)
        moved = LIBC.syscall(SYS_MOVE_MOUNT, tree, b"", AT_FDCWD, path.encode(), MOVE_MOUNT_F_EMPTY_PATH)
        _check(moved, f"move_mount {path}")
        os.close(tree)
    if os.path.isdir("/dev/shm"):
        shm = f"size={min(SHM_BYTES, tmp_bytes)},nr_inodes={tmp_inodes},mode=1777"
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, shm)
    loopback_up()


def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class Filter:
    """A BPF program ready for the kernel, built once in the worker (each spare only attaches it)."""

    def __init__(self, bpf: bytes) -> None:
        self.program = ctypes.create_string_buffer(bpf, len(bpf))
        self.fprog = _SockFprog(len(bpf) // 8, ctypes.addressof(self.program))
        self.empty = not bpf


def load_filter(prepared: Filter | None) -> None:
    """no_new_privs (setuid binaries grant nothing), then the seccomp filter (a BPF program from libseccomp)."""
    _check(LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if prepared is None or prepared.empty:
        return
    _check(LIBC.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prepared.fprog), 0, 0), "seccomp")


def filter_denies_user_namespaces() -> bool:
    """Whether unshare(CLONE_NEWUSER) fails with EPERM here (the filter's probe)."""
    return LIBC.unshare(0x10000000) != 0 and ctypes.get_errno() == 1


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Empty every capability set (after the uid change, only the inheritable one is left to clear)."""
    header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = (_CapData * 2)()
    _check(LIBC.capset(ctypes.byref(header), data), "capset")


def join_cgroups(fds: Iterable[int], *, close: bool = True) -> None:
    """Move this process into the cgroups whose `cgroup.procs` these are ("0": the writer itself)."""
    for fd in fds:
        os.write(fd, b"0")
        if close:
            os.close(fd)


@dataclass
class Setup:
    """What every spare does before its request, as decided at start."""

    uids: range | None = None
    namespaces: tuple[int, int] | None = None  # (tmp bytes, tmp inodes)
    keep: list[str] = field(default_factory=list)
    bpf: bytes | None = None  # None: no filter (no-new-privileges still applies)
    filter: Filter | None = None  # the same, ready to attach
    slots: list[list[int]] = field(default_factory=list)  # each slot's cgroup.procs descriptors


def prepare_spare(setup: Setup) -> str | None:
    """The run-independent isolation, before the request; returns why it failed, if it did."""
    try:
        if setup.namespaces is not None:
            private_namespaces(*setup.namespaces, keep=setup.keep)
        load_filter(setup.filter)
    except OSError as exc:
        return f"could not isolate the program: {exc}"
    return None


def probe(setup: Setup) -> str | None:
    """Set up a spare's isolation once, in a throw-away child: None if it works, else why not."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        problem = prepare_spare(setup)
        if problem is None and setup.bpf and not filter_denies_user_namespaces():
            problem = "the seccomp filter did not deny unshare(CLONE_NEWUSER)"
        os.write(write, (problem or "").encode()[:400])
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        answer = f.read().decode()
    os.waitpid(pid, 0)
    return answer or None


def options(argv: list[str]) -> tuple[Setup, dict[str, Any]]:
    """The worker's command-line options, each layer probed once: (set-up, what to say in its hello)."""
    setup = Setup()
    hello: dict[str, Any] = {}
    for arg in argv[1:-1]:
        name, _, value = arg.partition("=")
        if name == "--uids":
            start, stop = value.split(":")
            setup.uids = range(int(start), int(stop))
        elif name == "--namespaces":
            size, inodes = value.split(":")
            setup.namespaces = (int(size), int(inodes))
        elif name == "--keep":
            setup.keep = [p for p in value.split(":") if p]
        elif name == "--cgroup-fds":
            setup.slots = [[int(fd) for fd in group.split(",") if fd] for group in value.split(";")]
        elif name == "--seccomp-fd":
            with os.fdopen(int(value), "rb") as f:
                setup.bpf = f.read()
            setup.filter = Filter(setup.bpf)
    if setup.namespaces is not None:
        try:
            private_proc()
        except OSError as exc:
            hello["namespaces_error"] = str(exc)
            setup.namespaces = None
    if setup.namespaces is not None and (problem := probe(Setup(namespaces=setup.namespaces, keep=setup.keep))):
        hello["namespaces_error"] = problem
        setup.namespaces = None
    if setup.bpf and (problem := probe(Setup(bpf=setup.bpf, filter=setup.filter))):
        hello["seccomp_error"] = problem
        setup.bpf = setup.filter = None
    hello["namespaces"] = setup.namespaces is not None
    hello["seccomp"] = bool(setup.bpf)
    return setup, hello
