"""Per-run cgroups: one prepared cgroup per runner slot, made at start, reused run after run, removed at close.

A run's memory (anonymous, tmpfs, shared memory, memfds, kernel objects such as inodes), its number of
processes and threads, and its CPU bandwidth are then bounded for the run as a whole, not per process.
Making a cgroup per run costs ~0.13 ms of mkdir/rmdir on the start path; a pool of prepared ones costs
nothing per run but a ~15 µs write per hierarchy, done by the program process itself before it runs any
code: the parent (root, or the owner of a delegated cgroup v2) opens each slot's `cgroup.procs` once and
the program, handed those descriptors, writes "0" (itself) into them.  The kernel checks the opener's
credentials, so this works from inside the sandbox's pid and cgroup namespaces, and the program never
holds the descriptors once its code runs.

Two layouts, detected at start:

* **cgroup v2** (systemd `Delegate=yes`, containers): `<our cgroup>/corobot-<pid>-<random>/s<N>` with
  memory.max, memory.swap.max = 0, memory.oom.group = 1, pids.max, cpu.max.  If our own cgroup has the
  controllers but does not delegate them yet, we move ourselves into a leaf `corobot-service` first (a
  cgroup with controllers enabled for its children may hold no processes).
* **cgroup v1** (memory, pids and cpu hierarchies, writable as root): the same slots under our cgroup in
  each hierarchy, with memory.limit_in_bytes (+ memory.memsw.limit_in_bytes where swap is accounted;
  kernel memory is charged to the same counter), pids.max, cpu.cfs_quota_us.

An OOM kill inside a slot shows in its counter (`memory.events` / `memory.oom_control`: oom_kill), which
the runner reads to report `memory_limit` from the kernel's word rather than the program's.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "corobot-"
CPU_PERIOD_US = 100_000
KILL_ROUNDS = 200  # v1 has no cgroup.kill: kill what is listed, again, until the slot is empty


class CgroupError(RuntimeError):
    """No usable cgroup hierarchy (or preparing the slots failed)."""


@dataclass(frozen=True, slots=True)
class SlotLimits:
    memory_bytes: int
    pids: int
    cpu_cores: float


@dataclass(slots=True)
class _Slot:
    dirs: dict[str, Path]  # hierarchy key -> the slot's directory
    procs_fds: list[int] = field(default_factory=list)


def own_cgroups(text: str) -> dict[str, str]:
    """`/proc/self/cgroup` as {controller: path}; the v2 entry is keyed ""."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if not controllers:
            found[""] = path
        for name in controllers.split(","):
            if name:
                found[name] = path
    return found


def cgroup_mounts(text: str) -> dict[str, tuple[Path, str]]:
    """`/proc/self/mountinfo` -> {controller (v1) or "" (v2): (mount point, root of the mount)}."""
    found: dict[str, tuple[Path, str]] = {}
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, point, fstype, options = fields[3], fields[4], tail[0], tail[2]
        point = point.replace("\\040", " ")
        if fstype == "cgroup2":
            found.setdefault("", (Path(point), root))
        elif fstype == "cgroup":
            for name in options.split(","):
                if name in ("memory", "pids", "cpu"):
                    found.setdefault(name, (Path(point), root))
    return found


def _join(point: Path, mount_root: str, path: str) -> Path:
    if mount_root != "/" and path.startswith(mount_root):
        path = path[len(mount_root) :]
    return point / path.lstrip("/")


def _write(path: Path, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _read(path: Path) -> str:
    with open(path) as f:
        return f.read()


def _counter(text: str, key: str) -> int:
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CgroupPool:
    """The slots' cgroups.  `open()` detects and prepares; `close()` removes everything it made."""

    def __init__(self, slots: int, limits: SlotLimits) -> None:
        self.count = slots
        self.limits = limits
        self.version = 0
        self.controllers: tuple[str, ...] = ()
        self._bases: dict[str, Path] = {}  # hierarchy key ("" for v2) -> our corobot-<pid>-<random> dir
        self._parents: dict[str, Path] = {}  # where the bases live (our own cgroup in each hierarchy)
        self._slots: list[_Slot] = []
        self._baseline: dict[int, int] = {}
        self._weight_file: Path | None = None
        self._weight = 0

    def describe(self) -> str:
        if not self.version:
            return "no cgroups"
        return f"cgroup v{self.version} ({', '.join(self.controllers)})"

    # -- set-up ------------------------------------------------------------------------------------
    def open(self) -> None:
        own = own_cgroups(_read(Path("/proc/self/cgroup")))
        mounts = cgroup_mounts(_read(Path("/proc/self/mountinfo")))
        reasons = []
        try:
            self._open_v2(own, mounts)
            return
        except (CgroupError, OSError) as exc:
            reasons.append(f"v2: {exc}")
        try:
            self._open_v1(own, mounts)
            return
        except (CgroupError, OSError) as exc:
            reasons.append(f"v1: {exc}")
        self.close()
        raise CgroupError("; ".join(reasons))

    def _open_v2(self, own: dict[str, str], mounts: dict[str, tuple[Path, str]]) -> None:
        if "" not in mounts or "" not in own:
            raise CgroupError("no cgroup2 mount")
        point, root = mounts[""]
        parent = _join(point, root, own[""])
        available = _read(parent / "cgroup.controllers").split()
        missing = [c for c in ("memory", "pids") if c not in available]
        if missing:
            raise CgroupError(f"{parent} offers no {' or '.join(missing)} controller")
        wanted: list[str] = [c for c in ("memory", "pids", "cpu") if c in available]
        enabled = _read(parent / "cgroup.subtree_control").split()
        if any(c not in enabled for c in wanted):
            self._delegate_v2(parent, wanted)
        self.version, self.controllers = 2, tuple(wanted)
        self._parents[""] = parent
        base = parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self._sweep(parent)
        base.mkdir(mode=0o755)
        self._bases[""] = base
        _write(base / "cgroup.subtree_control", " ".join(f"+{c}" for c in wanted))
        if "cpu" in wanted:
            self._weight_file = base / "cpu.weight"
        for n in range(self.count):
            self._slots.append(_Slot({"": self._make_slot(base, n)}))

    def _delegate_v2(self, parent: Path, wanted: list[str]) -> None:
        control = " ".join(f"+{c}" for c in wanted)
        try:
            _write(parent / "cgroup.subtree_control", control)
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                raise CgroupError(f"cannot enable {control} in {parent}: {exc.strerror}") from None
        # "no internal processes": move ourselves into a leaf, then enable the controllers for children
        leaf = parent / f"{PREFIX}service"
        leaf.mkdir(exist_ok=True)
        _write(leaf / "cgroup.procs", str(os.getpid()))
        try:
            _write(parent / "cgroup.subtree_control", control)
        except OSError as exc:
            raise CgroupError(
                f"{parent} holds other processes, so its controllers cannot be delegated ({exc.strerror}); "
                "give corobot a cgroup of its own (systemd: Delegate=yes)"
            ) from None

    def _open_v1(self, own: dict[str, str], mounts: dict[str, tuple[Path, str]]) -> None:
        keys = [c for c in ("memory", "pids", "cpu") if c in mounts and c in own]
        if "memory" not in keys or "pids" not in keys:
            raise CgroupError("the memory and pids hierarchies are not both mounted")
        for key in keys:
            point, root = mounts[key]
            parent = _join(point, root, own[key])
            self._sweep(parent)
            base = parent / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
            base.mkdir(mode=0o755)  # PermissionError without root: v1 is not delegated
            self._parents[key], self._bases[key] = parent, base
            if key == "cpu":
                self._weight_file = base / "cpu.shares"
        self.version, self.controllers = 1, tuple(keys)
        for n in range(self.count):
            self._slots.append(_Slot({key: self._make_slot(self._bases[key], n, key) for key in keys}))

    def _make_slot(self, base: Path, n: int, key: str = "") -> Path:
        slot = base / f"s{n}"
        slot.mkdir(mode=0o755)
        lim = self.limits
        quota = max(1000, int(lim.cpu_cores * CPU_PERIOD_US))
        if key == "":
            _write(slot / "memory.max", str(lim.memory_bytes))
            with contextlib.suppress(OSError):  # no swap accounting on this kernel
                _write(slot / "memory.swap.max", "0")
            _write(slot / "memory.oom.group", "1")  # an OOM kill ends the whole run
            _write(slot / "pids.max", str(lim.pids))
            if (slot / "cpu.max").exists():
                _write(slot / "cpu.max", f"{quota} {CPU_PERIOD_US}")
        elif key == "memory":
            _write(slot / "memory.limit_in_bytes", str(lim.memory_bytes))
            with contextlib.suppress(OSError):  # only where swap is accounted
                _write(slot / "memory.memsw.limit_in_bytes", str(lim.memory_bytes))
            with contextlib.suppress(OSError):
                _write(slot / "memory.swappiness", "0")
        elif key == "pids":
            _write(slot / "pids.max", str(lim.pids))
        elif key == "cpu":
            _write(slot / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(slot / "cpu.cfs_quota_us", str(quota))
        return slot

    def _sweep(self, parent: Path) -> None:
        """Remove what a runner that died (its pid gone) left here."""
        with contextlib.suppress(OSError):
            for entry in parent.iterdir():
                name = entry.name
                if not name.startswith(PREFIX) or name == f"{PREFIX}service" or not entry.is_dir():
                    continue
                pid = name[len(PREFIX) :].split("-", 1)[0]
                if pid.isdigit() and not _alive(int(pid)):
                    log.info("removing cgroups a previous runner left: %s", entry)
                    for slot in sorted(entry.glob("s*")):
                        self._empty(slot)
                        with contextlib.suppress(OSError):
                            slot.rmdir()
                    with contextlib.suppress(OSError):
                        entry.rmdir()

    # -- per run -----------------------------------------------------------------------------------
    def weigh(self, runs: int) -> None:
        """The slots share one parent, which the CPU scheduler weighs against every other process as one:
        give it one process's weight per run in flight, so the runs together get what they would get as
        separate processes — no more (the bot stays responsive), no less (a single weight for all starved
        them under load: their sleeps woke up hundreds of milliseconds late)."""
        if self._weight_file is None:
            return
        runs = max(1, runs)
        weight = min(262_144, 1024 * runs) if self.version == 1 else min(10_000, 100 * runs)
        if weight != self._weight:
            with contextlib.suppress(OSError):
                _write(self._weight_file, str(weight))
                self._weight = weight

    def procs_fds(self, slot: int) -> list[int]:
        """Descriptors of the slot's `cgroup.procs` (one per hierarchy), opened once."""
        entry = self._slots[slot]
        if not entry.procs_fds:
            entry.procs_fds = [
                os.open(d / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC) for d in entry.dirs.values()
            ]
        return entry.procs_fds

    def _memory_dir(self, slot: int) -> Path:
        dirs = self._slots[slot].dirs
        return dirs[""] if "" in dirs else dirs["memory"]

    def oom_kills(self, slot: int) -> int:
        d = self._memory_dir(slot)
        try:
            text = _read(d / "memory.events") if self.version == 2 else _read(d / "memory.oom_control")
        except OSError:
            return 0
        return _counter(text, "oom_kill")

    def begin(self, slot: int) -> None:
        """A run takes the slot: remember its OOM counter."""
        self._baseline[slot] = self.oom_kills(slot)

    def oom_killed(self, slot: int) -> bool:
        """Whether the kernel's OOM killer ended a process of the run in this slot since `begin`."""
        return self.oom_kills(slot) > self._baseline.get(slot, 0)

    def pids(self, slot: int) -> list[int]:
        d = self._memory_dir(slot)
        with contextlib.suppress(OSError):
            return [int(x) for x in _read(d / "cgroup.procs").split()]
        return []

    def empty(self, slot: int) -> bool:
        return self._empty(self._memory_dir(slot), kill=False)

    def kill(self, slot: int) -> bool:
        """Kill every process in the slot (they may be in other pid namespaces: these are host pids, as we
        see them); True once it is empty."""
        return self._empty(self._memory_dir(slot))

    def _empty(self, d: Path, *, kill: bool = True) -> bool:
        if kill and (d / "cgroup.kill").exists():
            with contextlib.suppress(OSError):
                _write(d / "cgroup.kill", "1")
        for _ in range(KILL_ROUNDS if kill else 1):
            try:
                pids = [int(x) for x in _read(d / "cgroup.procs").split()]
            except OSError:
                return True
            if not pids:
                return True
            if not kill:
                return False
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.0005)
        return False

    # -- tear-down ---------------------------------------------------------------------------------
    def close(self) -> None:
        for entry in self._slots:
            for fd in entry.procs_fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            entry.procs_fds = []
        for entry in self._slots:
            for d in entry.dirs.values():
                self._empty(d)
                for attempt in range(50):
                    try:
                        d.rmdir()
                        break
                    except FileNotFoundError:
                        break
                    except OSError as exc:  # EBUSY: reaped processes take a moment to leave
                        if attempt == 49:
                            log.warning("could not remove cgroup %s: %s", d, exc.strerror)
                        time.sleep(0.002)
        self._slots = []
        for base in self._bases.values():
            try:
                base.rmdir()
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("could not remove cgroup %s: %s", base, exc.strerror)
        self._bases = {}

    @property
    def paths(self) -> list[Path]:
        """Our directories (for tests: gone after `close()`)."""
        return list(self._bases.values())
