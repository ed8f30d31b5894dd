"""What a Runner holds on the machine, and which isolation layers it could set up.

`Host.prepare(interpreters)` decides, once, at start: bubblewrap or not, a uid per slot (as root), a cgroup
per slot (v2 or v1, or rlimits only), private namespaces per run (root in bubblewrap), the seccomp filter
(libseccomp); `worker_command(index)` is the command line of the warm worker of the index-th interpreter, with
the descriptors it inherits; `note()` takes the default worker's word on what it could set up, warns once for
every layer that is missing and says which containment is active; `shortfall()` says what another
interpreter's worker lacks of that.  `release()` gives everything back (no cgroup, no uid block left behind).

Each interpreter's worker gets slots of its own: `max_concurrent` of them, each a uid and a cgroup, so a spare
of one worker, which joins the cgroup of the slot its worker hands out next, never sits in a slot another
worker's run is using.  How many runs go at once is still the runner's one admission (`max_concurrent` in
all); the slots only give every run, on whichever interpreter, the same containment.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
from collections.abc import Sequence
from typing import Any

from bot.core.errors import RunnerError
from bot.core.runner import sandbox
from bot.core.runner.cgroups import CgroupError, CgroupPool, SlotLimits
from bot.core.runner.limits import RunnerLimits
from bot.core.runner.pythons import Interpreter, own_interpreter
from bot.core.runner.seccomp_filter import SeccompUnavailable, build_filter

log = logging.getLogger(__name__)


class Host:
    def __init__(self, limits: RunnerLimits) -> None:
        self.limits = limits
        self.sandboxed = False
        self.as_root = False
        self.bwrap: str | None = None
        self.cgroups: CgroupPool | None = None
        self.uids: sandbox.UidBlock | None = None
        self.bpf: bytes | None = None
        self.namespaces = False  # the worker's word: private namespaces per run
        self.seccomp = False  # the worker's word: the filter applies
        self.slots = limits.max_concurrent  # slots (a uid and a cgroup each) per interpreter's worker
        self.commands: list[list[str]] = []  # one per interpreter, the default's first
        self.plains: list[list[str]] = []  # the same without bubblewrap (the fallback)

    @property
    def command(self) -> list[str]:
        """The default worker's command line."""
        return self.commands[0] if self.commands else []

    def slot_range(self, index: int) -> range:
        """The slots of the index-th interpreter's worker."""
        return range(index * self.slots, (index + 1) * self.slots)

    def prepare(self, interpreters: Sequence[Interpreter] = ()) -> None:
        """Decide the isolation layers and build a worker command for each interpreter (the bot's own if none)."""
        lim = self.limits
        pythons = list(interpreters) or [own_interpreter()]
        self.bwrap = sandbox.find_bwrap() if lim.sandbox != "off" else None
        if lim.sandbox == "required" and self.bwrap is None:
            raise RunnerError(
                "runner.sandbox is 'required' but bubblewrap (bwrap) is not installed; "
                "install it (apt-get install -y bubblewrap) or set runner.sandbox to 'auto'"
            )
        self._open_cgroups(len(pythons))
        self.as_root = sandbox.can_switch_uid()
        if self.as_root:
            self.uids = sandbox.UidBlock()
            self.uids.acquire()
        if self.bwrap is not None and lim.seccomp:
            try:
                self.bpf = build_filter()
            except SeccompUnavailable as exc:
                log.warning("no seccomp filter for examples: %s; the other layers stay on", exc)
        namespaces = None
        if self.as_root and self.bwrap and lim.namespaces:
            namespaces = (lim.tmp_mb * 1024 * 1024, lim.tmp_inodes)
        self.sandboxed = self.bwrap is not None
        self.commands, self.plains = [], []
        for index, python in enumerate(pythons):
            slots = self.slot_range(index)
            uids = range(self.uids.base + slots.start, self.uids.base + slots.stop) if self.uids else None
            plain = sandbox.worker_command(uids, python=python.executable)
            self.plains.append(plain)
            if self.bwrap is None:
                self.commands.append(plain)
                continue
            binds = sandbox.sandbox_binds(python.prefixes)
            prefix = sandbox.bwrap_command(
                self.bwrap, as_root=self.as_root, namespaces=namespaces is not None, binds=binds
            )
            keep = sandbox.binds_under_tmp(binds)
            worker = sandbox.worker_command(uids, namespaces=namespaces, keep=keep, python=python.executable)
            self.commands.append([*prefix, *worker])

    def fall_back(self) -> None:
        """bubblewrap is installed but failed to start: go on without it."""
        self.sandboxed, self.bpf, self.commands = False, None, list(self.plains)

    def _open_cgroups(self, workers: int) -> None:
        lim = self.limits
        if lim.cgroups == "off":
            return
        limits = SlotLimits(lim.memory_mb * 1024 * 1024, lim.processes, lim.cpu_cores)
        pool = CgroupPool(self.slots * workers, limits)
        try:
            pool.open()
        except (CgroupError, OSError) as exc:
            if lim.cgroups == "required":
                raise RunnerError(f"runner.cgroups is 'required' but no cgroup can be made: {exc}") from None
            log.warning("no cgroup per run (%s): memory and processes are limited per process (rlimits)", exc)
            return
        self.cgroups = pool
        _room_for_descriptors(pool.count * len(pool.controllers))

    def uid(self, slot: int) -> int | None:
        return self.uids.base + slot if self.uids is not None else None

    def worker_command(self, index: int = 0) -> tuple[list[str], tuple[int, ...], int | None]:
        """(command, descriptors to pass, a memfd to close once the worker has started) of the index-th
        interpreter's worker."""
        command = list(self.commands[index])
        pass_fds: tuple[int, ...] = ()
        memfd = None
        if self.sandboxed and self.bpf:
            memfd = os.memfd_create("corobot-seccomp")  # inheritable: the worker reads it at start
            os.write(memfd, self.bpf)
            os.lseek(memfd, 0, os.SEEK_SET)
            pass_fds = (memfd,)
            command.append(f"--seccomp-fd={memfd}")
        if self.cgroups is not None:  # every slot's cgroup.procs, for spares to join ahead of their run
            slots = [self.cgroups.procs_fds(slot) for slot in self.slot_range(index)]
            pass_fds += tuple(fd for fds in slots for fd in fds)
            command.append("--cgroup-fds=" + ";".join(",".join(map(str, fds)) for fds in slots))
        return command, pass_fds, memfd

    def note(self, info: dict[str, Any]) -> None:
        """The worker's hello: what it could set up.  Warn once for each missing layer."""
        self.namespaces = info.get("namespaces") is True
        self.seccomp = info.get("seccomp") is True
        if self.sandboxed and self.as_root and self.limits.namespaces and not self.namespaces:
            log.warning("no private namespaces per run (%s): runs share /tmp", info.get("namespaces_error"))
        if self.bpf is not None and not self.seccomp:
            log.warning("the seccomp filter could not be applied (%s)", info.get("seccomp_error"))
        if self.sandboxed:
            return
        if self.limits.sandbox == "off":
            why = "runner.sandbox is 'off'"
        else:
            why = "bubblewrap (bwrap) is not installed" if self.bwrap is None else "bubblewrap failed to start"
        hint = ""
        if self.as_root and (path := sandbox.unreadable_prefix()):
            hint = f"; {path} is not readable by other users, so examples can only import preloaded modules"
        log.warning(
            "examples run WITHOUT a sandbox (%s): only %s and a separate uid protect this machine; "
            "examples can reach the network and read world-readable files%s",
            why,
            "cgroups, rlimits" if self.cgroups else "rlimits",
            hint,
        )

    def shortfall(self, info: dict[str, Any]) -> str | None:
        """What another interpreter's worker lacks of the default worker's containment (its hello), if anything:
        such a worker is not used."""
        if self.namespaces and info.get("namespaces") is not True:
            return f"no private namespaces per run ({info.get('namespaces_error')})"
        if self.seccomp and info.get("seccomp") is not True:
            return f"the seccomp filter could not be applied ({info.get('seccomp_error')})"
        return None

    def describe(self) -> str:
        parts = ["bubblewrap sandbox" if self.sandboxed else "no sandbox"]
        parts.append(self.cgroups.describe() if self.cgroups else "rlimits only (no cgroups)")
        if self.namespaces:
            parts.append("private namespaces per run")
        if self.seccomp:
            parts.append("seccomp")
        return ", ".join(parts)

    async def release(self) -> None:
        if self.uids is not None:
            self.uids.release()
            self.uids = None
        if self.cgroups is not None:
            pool, self.cgroups = self.cgroups, None
            await asyncio.to_thread(pool.close)


def _room_for_descriptors(needed: int) -> None:
    """The slots' `cgroup.procs` stay open (one per slot and hierarchy, for every worker): make room for them
    and a margin under the soft limit on open files, as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = needed + 1024
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        log.info("raised the open-file limit from %d to %d for the runner slots' cgroups", soft, raised)
