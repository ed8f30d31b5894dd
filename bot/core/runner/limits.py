"""`RunnerLimits`: the plain values a `Runner` is built from (the config layer converts its settings).

The last three fields switch isolation layers off one by one; they exist for the benchmark that prices each
layer (`benchmarks/runner.py --layers`) and for tests of the fallbacks.  A service leaves them on: each one
switches itself off, with a warning at start-up, where the machine cannot provide it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["off", "auto", "required"]
Pythons = tuple[str, ...] | Literal["auto"]


def _default_concurrency() -> int:
    return 8 * (os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class RunnerLimits:
    timeout_default: float = 10.0  # seconds, when a lesson sets none
    timeout_max: float = 60.0  # a lesson's timeout is capped here
    output_bytes: int = 256 * 1024  # stdout+stderr bytes per run
    output_lines: int = 2000  # stdout+stderr lines per run
    memory_mb: int = 256  # per run: cgroup memory (RAM, tmpfs, shm, kernel memory); else RLIMIT_AS per process
    cpu_seconds: int = 10  # CPU seconds per process (RLIMIT_CPU)
    processes: int = 64  # processes + threads per run (cgroup pids.max; else RLIMIT_NPROC)
    open_files: int = 64  # open file descriptors per process
    file_size_mb: int = 8  # largest file a run may write
    max_concurrent: int = field(default_factory=_default_concurrency)
    per_user: int = 1  # running + queued runs per user
    queue_size: int = 200  # waiting runs beyond which new ones are refused
    cpu_cores: float = 1.0  # CPU bandwidth of one run (cgroup CFS quota), in cores
    tmp_mb: int = 64  # size of the run's private /tmp (tmpfs; also counted in memory_mb)
    tmp_inodes: int = 4096  # files + directories in the run's private /tmp
    sandbox: Mode = "auto"  # bubblewrap
    cgroups: Mode = "auto"  # a cgroup per run (v2 or v1), else rlimits only
    namespaces: bool = True  # private mount/IPC/network namespaces, /tmp and /dev/shm per run
    seccomp: bool = True  # the syscall filter (needs libseccomp)
    # Interpreters to keep a warm worker for besides the bot's own: versions ("3.12") or paths; "auto" = every
    # CPython >= 3.11 found (pyenv, python3.N on PATH); () = only the bot's own (see pythons.py).
    pythons: Pythons = ()

    def __post_init__(self) -> None:
        for name in ("output_bytes", "output_lines", "memory_mb", "cpu_seconds", "processes", "open_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"RunnerLimits.{name} must be positive")
        if self.max_concurrent < 1 or self.timeout_default <= 0 or self.timeout_max <= 0 or self.cpu_cores <= 0:
            raise ValueError("RunnerLimits: max_concurrent, timeouts and cpu_cores must be positive")
