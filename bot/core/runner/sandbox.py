"""How the warm worker is started: the bubblewrap command line, a clean environment, and run uids.

The sandbox binds only what Python needs, read-only (`/usr`, the `/bin`-style links, a few files of
`/etc`, the interpreter's prefixes and this package's directory), so config files and the data folder
are not there.  It has no network, its own pid/ipc/uts namespaces, a private size-capped `/tmp`, and
dies with the bot.  As root it keeps no user namespace (bubblewrap would map only uid 0) and only the
capabilities the worker needs: to hand each run a uid of its own (CAP_SETUID/SETGID/KILL) and, for private
namespaces per run, to make them (CAP_SYS_ADMIN, CAP_NET_ADMIN for the loopback).  Programs keep none:
they run as a non-zero uid, with no-new-privileges, under the seccomp filter.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

RUNNER_DIR = Path(__file__).resolve().parent
WORKER_SCRIPT = RUNNER_DIR / "worker.py"
SANDBOX_TMP_BYTES = 64 * 1024 * 1024
ETC_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/alternatives",
)
UID_BASE = 1_000_000  # run uids: UID_BASE + block * UID_BLOCK + slot
UID_BLOCK = 65_536
UID_BLOCKS = 1_000


def clean_env() -> dict[str, str]:
    """The worker's whole environment: nothing from ours (no DISCORD_TOKEN, no COROBOT_*)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def worker_command(
    uids: range | None = None,
    *,
    namespaces: tuple[int, int] | None = None,
    keep: list[str] | None = None,
    seccomp_fd: int | None = None,
    python: str = sys.executable,
) -> list[str]:
    """The worker's command line.  With the runs' `uids` it supervises the runs itself, and first ends any
    process a previous worker left running with one of them (see worker.py).  `namespaces`: (bytes, inodes)
    of each run's private /tmp; `keep`: sandbox paths under /tmp to carry into it; `seccomp_fd`: the filter;
    `python`: the interpreter that runs the worker (and so the examples), the bot's own by default."""
    flags = [f"--uids={uids.start}:{uids.stop}"] if uids is not None else []
    if namespaces is not None:
        flags.append(f"--namespaces={namespaces[0]}:{namespaces[1]}")
        if keep:
            flags.append("--keep=" + ":".join(keep))
    if seccomp_fd is not None:
        flags.append(f"--seccomp-fd={seccomp_fd}")
    return [python, "-I", "-u", str(WORKER_SCRIPT), *flags]


def can_switch_uid() -> bool:
    """Whether each run can get a uid of its own (we are root)."""
    return os.geteuid() == 0


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def own_prefixes() -> list[str]:
    """This interpreter's prefixes and the directory its executable lives in (what `prefix_binds` filters)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths.add(str(Path(os.path.realpath(sys.executable)).parent.parent))
    return sorted(paths)


def prefix_binds(paths: list[str] | tuple[str, ...]) -> list[str]:
    """Of an interpreter's prefixes, those the sandbox must bind (not `/`, not under `/usr`, existing)."""
    out = []
    for path in sorted(set(paths)):
        if path != "/" and not path.startswith("/usr/") and path != "/usr" and os.path.isdir(path):
            out.append(path)
    return out


def traversable_parents(binds: list[str]) -> list[str]:
    """The directories above `binds` that the sandbox must create (shallow first), skipping `/`, `/usr`
    and anything that is itself bound (or lies inside a bound path)."""
    bound = [Path(b) for b in binds]
    parents: list[str] = []
    for path in bound:
        for parent in reversed(path.parents):
            if str(parent) in {"/", "/usr"} or parent.is_relative_to("/usr"):
                continue
            if any(parent == b or parent.is_relative_to(b) for b in bound):
                continue
            if str(parent) not in parents:
                parents.append(str(parent))
    return parents


def sandbox_binds(prefixes: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """What the sandbox binds besides the system: the interpreter's prefixes (this one's unless given) and
    this package's directory."""
    return [*prefix_binds(own_prefixes() if prefixes is None else prefixes), str(RUNNER_DIR)]


def binds_under_tmp(binds: list[str] | None = None) -> list[str]:
    """Bound paths that live under /tmp (a checkout or venv there): each run's own /tmp must show them too."""
    binds = sandbox_binds() if binds is None else binds
    under = sorted(Path(path) for path in binds if Path(path).is_relative_to("/tmp"))
    tops = [path for path in under if not any(path != other and path.is_relative_to(other) for other in under)]
    return [str(path) for path in tops]


def bwrap_command(bwrap: str, *, as_root: bool, namespaces: bool = False, binds: list[str] | None = None) -> list[str]:
    """The bubblewrap prefix for the worker command (`namespaces`: the worker makes private ones per run;
    `binds`: what `sandbox_binds` gives for the worker's interpreter, this one's by default)."""
    args = [bwrap, "--die-with-parent", "--new-session"]
    if as_root:
        args += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_KILL"]
        if namespaces:
            args += ["--cap-add", "CAP_SYS_ADMIN", "--cap-add", "CAP_NET_ADMIN"]
    else:
        args += ["--unshare-all"]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ETC_FILES:
        args += ["--ro-bind-try", path, path]
    # the private /tmp first: a checkout or venv that lives under /tmp is bound on top of it, not hidden by it
    args += ["--size", str(SANDBOX_TMP_BYTES), "--perms", "1777", "--tmpfs", "/tmp"]
    binds = sandbox_binds() if binds is None else binds
    for parent in traversable_parents(binds):
        # bubblewrap makes missing parents mode 0700 (e.g. /root/.pyenv): a run's uid could not reach the
        # standard library behind them, so only modules the worker had pre-imported would work.
        args += ["--perms", "0755", "--dir", parent]
    for path in binds:
        args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--chdir", "/tmp"]
    args += ["--clearenv"]
    for key, value in clean_env().items():
        args += ["--setenv", key, value]
    return [*args, "--"]


def unreadable_prefix() -> str | None:
    """A path on the way to the standard library that other uids cannot traverse (sandbox off, as root)."""
    path = Path(sys.base_prefix)
    for part in [path, *path.parents]:
        with contextlib.suppress(OSError):
            if not part.stat().st_mode & 0o001:
                return str(part)
    return None


class UidBlock:
    """A block of uids no other Runner on this machine uses, held by an flock for the Runner's life."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self.base = 0

    def acquire(self) -> int:
        folder = Path(tempfile.gettempdir()) / "corobot-uid-blocks"
        folder.mkdir(mode=0o700, exist_ok=True)
        for block in range(UID_BLOCKS):
            fd = os.open(folder / f"{block}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._fd = fd
            self.base = UID_BASE + block * UID_BLOCK
            return self.base
        raise RuntimeError("no free uid block for the runner")

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
