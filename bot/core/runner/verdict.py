"""How a run ended, decided from what the parent can trust.

Trusted: the parent's own observations (deadline, cancellation, output it counted, the clock), the worker's
end-of-run report on the control channel (wait status, CPU time, when it was reaped), and the kernel's
counters (an OOM kill in the run's cgroup).  The program's own account — an `error` message with its
traceback, a claim that it hit the output limit — is data: it is shown as the program's, and it can only
explain an outcome the trusted facts allow (an error needs a non-zero exit; `memory_limit` needs the
kernel's word, so a forged MemoryError report stays an `error` at most).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass

from bot.core.events import Finished, LoopBlocked, Status
from bot.core.runner.limits import RunnerLimits
from bot.core.runner.process import RunProcess

log = logging.getLogger(__name__)

# SIGKILL/SIGXCPU counts as the CPU limit only with at least this share of the limit used: a program can send
# itself SIGXCPU, so the signal alone is not proof.  Half, not ~all: under load the rusage reported at exit has
# read 12 % below the CPU time the kernel's RLIMIT_CPU check had counted (test_cpu_limit on a loaded machine).
CPU_LIMIT_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Facts:
    """The parent's own observations of one run."""

    reason: Status | None  # TIMEOUT / CANCELLED when the parent ended it
    timeout: float
    oom_killed: bool  # the run's cgroup counted an OOM kill
    failure: str | None  # the runner itself failed
    started_at: float  # when the run got its slot (perf_counter)


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def decide(proc: RunProcess | None, facts: Facts, limits: RunnerLimits) -> Finished:
    now = time.perf_counter()
    if proc is None:  # never handed to the worker
        if facts.failure is not None:
            return Finished(Status.KILLED, 0.0, error=facts.failure)
        return Finished(Status.CANCELLED, 0.0, error="cancelled before it started")
    o = proc.outcome
    window = max(0.0, now - proc.launched)
    if o.t0 is not None:
        end = o.end if o.end is not None and facts.reason is None else now
        elapsed = min(max(0.0, end - o.t0), window)
    else:
        elapsed = max(0.0, now - max(facts.started_at, proc.launched))
    exit_code = os.waitstatus_to_exitcode(o.wait_status) if o.wait_status is not None else None
    error: str | None = None
    traceback: str | None = None
    at_output_cap = proc.used_bytes >= limits.output_bytes - 4 or proc.used_lines >= limits.output_lines
    if facts.failure is not None:
        status, error = Status.KILLED, facts.failure
    elif facts.reason == Status.TIMEOUT:
        status, error = Status.TIMEOUT, f"timed out after {facts.timeout:g} s"
    elif facts.reason == Status.CANCELLED:
        status, error = Status.CANCELLED, "cancelled"
    elif proc.over_limit or (o.claims_output_limit and at_output_cap):
        status = Status.OUTPUT_LIMIT
        error = f"output limit reached ({limits.output_bytes} bytes or {limits.output_lines} lines)"
    elif facts.oom_killed:
        status = Status.MEMORY_LIMIT
        error = f"memory limit reached: the run used more than {limits.memory_mb} MiB"
    elif exit_code is None:
        status, error = Status.KILLED, o.failure or "the run ended without an exit status (worker died?)"
    elif exit_code < 0:
        sig = -exit_code
        if sig in (signal.SIGXCPU, signal.SIGKILL) and o.cpu >= limits.cpu_seconds * CPU_LIMIT_SHARE:
            status, error = Status.CPU_LIMIT, f"CPU time limit reached ({limits.cpu_seconds} s)"
        else:
            status, error = Status.KILLED, f"killed by {_signal_name(sig)} (after {o.cpu:.2f} s of CPU)"
    elif exit_code != 0:
        status = Status.ERROR
        error = o.error or o.failure or f"exited with code {exit_code}"
        traceback = o.traceback if o.error else None
    else:
        status = Status.OK
    if o.pending_block is not None:  # the loop was still blocked when the run ended
        t, line = o.pending_block
        proc.emit(LoopBlocked(duration=max(0.0, elapsed - t), t=min(t, elapsed), line=line))
    log.debug("run %s: %s in %.3f s, program CPU %.1f ms", proc.run_id, status, elapsed, o.cpu * 1000)
    return Finished(
        status=status,
        elapsed=elapsed,
        exit_code=exit_code,
        error=error,
        traceback=traceback,
        t=elapsed,
        timings_trusted=o.timings_trusted,
    )
