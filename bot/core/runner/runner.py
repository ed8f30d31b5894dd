"""The Runner: admission (per-user limit, FIFO queue with positions, global cap) and each run's life.

Each admitted run is an `asyncio.create_task` that waits for a slot, hands the run to the warm worker,
and waits for it with `asyncio.wait_for`; the Runner keeps a strong reference to every such task and
cancels them all on `close()`.  A run's events go into its own queue, so a slow consumer loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
import time
from collections import deque
from types import TracebackType

from bot.config import RunnerSettings
from bot.core.errors import QueueFull, RunnerClosed, RunnerError, UserBusy
from bot.core.events import Event, Finished, LoopBlocked, Queued, Started, Status
from bot.core.runner import sandbox
from bot.core.runner.process import RunProcess, Worker, WorkerError

log = logging.getLogger(__name__)

LAUNCH_TIMEOUT = 10.0  # handing a run to the worker; far above the ~0.3 ms it takes
DRAIN_TIMEOUT = 3.0  # after a kill, how long the pipes may take to close
# Runs being handed to the worker at once.  The worker starts them one by one anyway; without a bound, a
# burst of 200 admitted runs would set up all their pipes in one turn of the loop (~35 ms of lag).
LAUNCHES_AT_ONCE = 4
DEATH_DRAIN = 0.2  # when the worker dies, seconds to read what its runs printed before ending them


class Run:
    """One submitted program: an async iterator of its events (`async for event in run`)."""

    def __init__(self, runner: Runner, run_id: int, code: str, name: str, timeout: float, owner: int | None) -> None:
        self.id = run_id
        self.owner = owner
        self.name = name
        self.code = code
        self.timeout = timeout
        self.result: Finished | None = None
        self._runner = runner
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._iter_done = False
        self._slot: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.uid_slot: int | None = None

    def __repr__(self) -> str:
        return f"<Run {self.id} {self.name!r} owner={self.owner} result={self.result and self.result.status}>"

    def __aiter__(self) -> Run:
        return self

    async def __anext__(self) -> Event:
        if self._iter_done:
            raise StopAsyncIteration
        event = await self._events.get()
        if isinstance(event, Finished):
            self._iter_done = True
        return event

    def cancel(self) -> None:
        """Stop the run (queued or running): it ends with status `cancelled`, earlier output kept."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def wait(self) -> Finished:
        """Drain the events and return the `Finished`."""
        async for _ in self:
            pass
        if self.result is None:  # iterated to the end elsewhere
            assert self._task is not None
            await asyncio.shield(self._task)
        assert self.result is not None
        return self.result

    def emit(self, event: Event) -> None:
        if isinstance(event, Finished):
            if self.result is not None:
                return
            self.result = event
        elif self.result is not None:
            return
        self._events.put_nowait(event)


class Runner:
    """Runs example programs in forked children of a warm (sandboxed) worker."""

    def __init__(self, settings: RunnerSettings) -> None:
        self.settings = settings
        self.sandboxed = False
        self._worker: Worker | None = None
        self._worker_lock = asyncio.Lock()
        self._launching = asyncio.Semaphore(LAUNCHES_AT_ONCE)
        self._uids: sandbox.UidBlock | None = None
        self._free_uid_slots: list[int] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._procs: set[RunProcess] = set()  # launched, not finished
        self._runs: dict[int, Run] = {}  # admitted, not finished
        self._running: set[Run] = set()
        self._waiting: deque[Run] = deque()
        self._next_id = 0
        self._closed = False
        self._started = False
        self._command: list[str] = []

    async def __aenter__(self) -> Runner:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- life cycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        mode = self.settings.sandbox
        bwrap = sandbox.find_bwrap() if mode != "off" else None
        if mode == "required" and bwrap is None:
            raise RunnerError(
                "runner.sandbox is 'required' but bubblewrap (bwrap) is not installed; "
                "install it (apt-get install -y bubblewrap) or set runner.sandbox to 'auto'"
            )
        as_root = sandbox.can_switch_uid()
        if as_root:
            self._uids = sandbox.UidBlock()
            self._uids.acquire()
            self._free_uid_slots = list(range(self.settings.concurrency()))[::-1]
        uids = range(self._uids.base, self._uids.base + self.settings.concurrency()) if self._uids else None
        plain = sandbox.worker_command(uids)
        self.sandboxed = bwrap is not None
        self._command = [*sandbox.bwrap_command(bwrap, as_root=as_root), *plain] if bwrap else plain
        try:
            await self._start_worker()
        except WorkerError as exc:
            if mode != "auto" or not self.sandboxed:
                self._release_uids()
                raise RunnerError(f"cannot start the example runner: {exc}") from exc
            log.warning("bubblewrap is installed but the sandbox failed to start (%s); using rlimits only", exc)
            self.sandboxed = False
            self._command = plain
            await self._start_worker()
        if not self.sandboxed:
            if mode == "off":
                why = "runner.sandbox is 'off'"
            else:
                why = "bubblewrap (bwrap) is not installed" if bwrap is None else "bubblewrap failed to start"
            hint = ""
            if as_root and (path := sandbox.unreadable_prefix()):
                hint = f"; {path} is not readable by other users, so examples can only import preloaded modules"
            log.warning(
                "examples run WITHOUT a sandbox (%s): only rlimits and a separate uid protect this machine; "
                "examples can reach the network and read world-readable files%s",
                why,
                hint,
            )
        self._started = True
        log.info("runner ready: %s", self.describe())

    async def _start_worker(self) -> None:
        worker = Worker(self._command, sandbox.clean_env(), on_death=self._worker_died)
        await worker.start()
        self._worker = worker

    def _worker_died(self, worker: Worker) -> None:
        if self._closed:
            return
        task = asyncio.create_task(self._after_worker_death(worker), name="corobot-worker-death")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _after_worker_death(self, worker: Worker) -> None:
        """End that worker's runs (what they printed is read first) and start a new worker right away, which
        also ends whatever those runs left behind."""
        await asyncio.sleep(DEATH_DRAIN)
        for proc in [p for p in self._procs if p.worker is worker]:
            proc.outcome.failure = proc.outcome.failure or "the example runner's worker died"
            proc.abandon()
        try:
            await self._ensure_worker()
        except Exception:
            log.exception("could not start a new warm worker; the next run will try again")

    async def _ensure_worker(self) -> Worker:
        async with self._worker_lock:
            if self._worker is None or not self._worker.alive:
                if self._worker is not None:
                    log.warning("the warm worker died; starting a new one")
                    await self._worker.stop()
                await self._start_worker()
            assert self._worker is not None
            return self._worker

    async def close(self) -> None:
        """Cancel every run (status cancelled) and stop the worker."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._worker is not None:
            await self._worker.stop()
            self._worker = None
        self._release_uids()

    def _release_uids(self) -> None:
        if self._uids is not None:
            self._uids.release()
            self._uids = None

    def describe(self) -> str:
        kind = "bubblewrap sandbox" if self.sandboxed else "no sandbox (rlimits only)"
        return f"{kind}, {self.settings.concurrency()} concurrent runs"

    @property
    def active(self) -> int:
        return len(self._running)

    @property
    def queued(self) -> int:
        return len(self._waiting)

    # -- admission -------------------------------------------------------------------------------
    def run(
        self, code: str, *, name: str = "example.py", timeout: float | None = None, owner: int | None = None
    ) -> Run:
        """Admit a run (raises UserBusy / QueueFull / RunnerClosed now) and start it in the background."""
        s = self.settings
        self.check_admission(owner)
        timeout = min(timeout if timeout is not None else s.timeout_default, s.timeout_max)
        self._next_id += 1
        run = Run(self, self._next_id, code, name, timeout, owner)
        self._runs[run.id] = run
        if len(self._running) < s.concurrency() and not self._waiting:
            self._running.add(run)
        else:
            run._slot = asyncio.get_running_loop().create_future()
            self._waiting.append(run)
            run.emit(Queued(position=len(self._waiting)))
        task = asyncio.create_task(self._execute(run), name=f"corobot-run-{run.id}")
        run._task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return run

    def check_admission(self, owner: int | None = None) -> None:
        """Raise what `run` would raise for this owner now (RunnerClosed, UserBusy, QueueFull); admit nothing."""
        s = self.settings
        if self._closed:
            raise RunnerClosed()
        if owner is not None and sum(r.owner == owner for r in self._runs.values()) >= s.per_user:
            raise UserBusy(s.per_user)
        if len(self._runs) >= s.concurrency() + s.queue_size:
            raise QueueFull(s.queue_size)

    def cancel_owner(self, owner: int) -> int:
        """Cancel that owner's running and queued runs; returns how many."""
        runs = [r for r in self._runs.values() if r.owner == owner]
        for run in runs:
            run.cancel()
        return len(runs)

    def _release(self, run: Run) -> None:
        self._runs.pop(run.id, None)
        if run in self._waiting:
            self._waiting.remove(run)
        elif run in self._running:
            self._running.discard(run)
        else:
            return
        while self._waiting and len(self._running) < self.settings.concurrency():
            nxt = self._waiting.popleft()
            self._running.add(nxt)
            if nxt._slot is not None and not nxt._slot.done():
                nxt._slot.set_result(None)
        for position, waiting in enumerate(self._waiting, start=1):
            waiting.emit(Queued(position=position))

    # -- one run ---------------------------------------------------------------------------------
    async def _execute(self, run: Run) -> None:
        proc: RunProcess | None = None
        reason: Status | None = None
        started_at = time.perf_counter()
        try:
            if run._slot is not None:
                await run._slot
            started_at = time.perf_counter()
            try:
                async with self._launching:
                    proc = await asyncio.wait_for(self._launch(run), LAUNCH_TIMEOUT)
            except TimeoutError:
                raise RunnerError("the warm worker did not take the run in time") from None
            try:
                await asyncio.wait_for(proc.wait_closed(), run.timeout)
            except TimeoutError:
                reason = Status.TIMEOUT
        except asyncio.CancelledError:
            reason = Status.CANCELLED
        except Exception as exc:
            log.exception("run %s failed", run.id)
            run.emit(Started())
            run.emit(Finished(Status.KILLED, 0.0, error=f"the runner failed: {exc}"))
        finally:
            if proc is not None:
                await self._stop(proc)
                self._procs.discard(proc)
                run.emit(self._finished(run, proc, reason, started_at))
            else:
                run.emit(Finished(Status.CANCELLED, 0.0, error="cancelled before it started"))
            if run.uid_slot is not None:
                self._free_uid_slots.append(run.uid_slot)
                run.uid_slot = None
            self._release(run)

    async def _launch(self, run: Run) -> RunProcess:
        worker = await self._ensure_worker()
        s = self.settings
        proc = RunProcess(run.emit, s.output_bytes, s.output_lines)
        uid = None
        if self._uids is not None:
            run.uid_slot = self._free_uid_slots.pop()
            uid = self._uids.base + run.uid_slot
        header = {
            "id": run.id,
            "name": run.name,
            "uid": uid,
            "tmp_root": "/tmp" if self.sandboxed else tempfile.gettempdir(),
            "cpu_seconds": s.cpu_seconds,
            "memory_mb": s.memory_mb,
            "file_size_mb": s.file_size_mb,
            "open_files": s.open_files,
            "processes": s.processes,
            "output_bytes": s.output_bytes,
            "output_lines": s.output_lines,
        }
        pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(4)]
        (ev_r, ev_w), (out_r, out_w), (err_r, err_w), (ctl_r, ctl_w) = pipes
        started = False

        def on_started() -> None:
            nonlocal started
            started = True
            run.emit(Started())

        proc.on_started = on_started
        try:
            await proc.connect(ev_r, out_r, err_r, ctl_w)
            try:
                await worker.submit(header, run.code.encode("utf-8", "surrogateescape"), [ev_w, out_w, err_w, ctl_r])
            except WorkerError:
                log.warning("the warm worker is gone; restarting it")
                worker = await self._ensure_worker()
                await worker.submit(header, run.code.encode("utf-8", "surrogateescape"), [ev_w, out_w, err_w, ctl_r])
        except BaseException:
            proc.abandon()
            raise
        finally:
            for fd in (ev_w, out_w, err_w, ctl_r):
                os.close(fd)
        proc.worker = worker
        self._procs.add(proc)
        if not started:
            run.emit(Started())  # ordering: Started precedes everything else even if the child is slow
            proc.on_started = None
        return proc

    async def _stop(self, proc: RunProcess) -> None:
        proc.kill()
        try:
            await asyncio.wait_for(proc.wait_closed(), DRAIN_TIMEOUT)
        except (TimeoutError, asyncio.CancelledError):
            log.warning("a run's pipes did not close after a kill; abandoning them")
            proc.abandon()

    def _finished(self, run: Run, proc: RunProcess, reason: Status | None, started_at: float) -> Finished:
        o = proc.outcome
        now = time.perf_counter()
        if o.t0 is not None:
            elapsed = (o.end if o.end is not None and reason is None else now) - o.t0
        else:
            elapsed = now - started_at
        elapsed = max(0.0, elapsed)
        if o.pending_block is not None:  # the loop was still blocked when the run ended
            t, line = o.pending_block
            run.emit(LoopBlocked(duration=max(0.0, elapsed - t), t=t, line=line))
        exit_code: int | None = None
        if o.wait_status is not None:
            exit_code = os.waitstatus_to_exitcode(o.wait_status)
        s = self.settings
        error: str | None = None
        status: Status
        if reason == Status.TIMEOUT:
            status, error = reason, f"timed out after {run.timeout:g} s"
        elif reason == Status.CANCELLED:
            status, error = reason, "cancelled"
        elif proc.over_limit or o.limit == "output":
            status = Status.OUTPUT_LIMIT
            error = f"output limit reached ({s.output_bytes} bytes or {s.output_lines} lines)"
        elif o.error_type == "MemoryError":
            status, error = Status.MEMORY_LIMIT, f"{o.error} (memory limit {s.memory_mb} MiB)"
        elif o.error is not None:
            status, error = Status.ERROR, o.error
        elif exit_code is None:
            status, error = Status.KILLED, o.failure or "the run ended without an exit status (worker died?)"
        elif exit_code < 0:
            sig = -exit_code
            if sig == signal.SIGXCPU or (sig == signal.SIGKILL and o.cpu >= s.cpu_seconds):
                status, error = Status.CPU_LIMIT, f"CPU time limit reached ({s.cpu_seconds} s)"
            else:
                status, error = Status.KILLED, f"killed by {signal.Signals(sig).name}"
        elif exit_code != 0:
            status, error = Status.ERROR, o.failure or f"exited with code {exit_code}"
        else:
            status = Status.OK
        log.debug("run %s: %s in %.3f s, program CPU %.1f ms", run.id, status, elapsed, o.cpu * 1000)
        return Finished(
            status=status,
            elapsed=elapsed,
            exit_code=exit_code,
            error=error,
            traceback=o.traceback if status in (Status.ERROR, Status.MEMORY_LIMIT) else None,
            t=elapsed,
        )
