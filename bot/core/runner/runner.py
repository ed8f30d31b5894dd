"""The Runner: admission (per-user limit, FIFO queue with positions, global cap) and each run's life.

It keeps one warm worker per Python interpreter (`workers.py`; which ones: `pythons.py`), and a run goes to the
worker of the version it asks for (`run(..., python="3.12")`), the default one otherwise.  Admission is one for
all of them: one queue, one global cap, one per-user limit.  `run_versions()` admits the same program on several
versions at once, all or none, counting as one run of its owner's.

Each admitted run is an `asyncio.create_task` that waits for a slot, hands the run to the warm worker,
and waits for it with `asyncio.wait_for`; the Runner keeps a strong reference to every such task and
cancels them all on `close()`.  A run's events go into its own queue, so a slow consumer loses nothing.
Every run ends with exactly one `Finished` and gives its slot back, whatever its program did: the end is
emitted from a `finally` that cannot raise (and, should the task be cancelled before it ever ran, from its
done-callback); a cancelled run's task re-raises `CancelledError` after that, as an owned task should.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import tempfile
import time
from collections import deque
from collections.abc import Sequence
from types import TracebackType

from bot.core.errors import QueueFull, RunnerClosed, RunnerError, UserBusy
from bot.core.events import Event, Finished, Queued, Started, Status
from bot.core.runner.cgroups import CgroupPool
from bot.core.runner.host import Host
from bot.core.runner.limits import RunnerLimits
from bot.core.runner.process import RunProcess
from bot.core.runner.pythons import find_pythons, own_interpreter
from bot.core.runner.verdict import Facts, decide
from bot.core.runner.warm import Worker, WorkerError
from bot.core.runner.workers import Engine, Workers
from bot.core.versions import Pythons, Unavailable

log = logging.getLogger(__name__)

LAUNCH_TIMEOUT = 10.0  # handing a run to the worker; far above the ~0.3 ms it takes
DRAIN_TIMEOUT = 3.0  # after a kill, how long the worker's report and the pipes may take
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
        self.python = ""  # the Python version it runs on ("3.12")
        self.group = run_id  # the runs admitted together (`run_versions`) share it
        self.result: Finished | None = None
        self._runner = runner
        self._events: asyncio.Queue[Event] = asyncio.Queue()
        self._iter_done = False
        self._slot: asyncio.Future[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.slot: int | None = None  # the runner slot (uid, cgroup) while it runs

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
        assert self.result is not None  # the iteration ends only after the Finished
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

    def __init__(self, limits: RunnerLimits) -> None:
        if not isinstance(limits, RunnerLimits):
            raise TypeError("Runner takes RunnerLimits (settings.runner.limits())")
        self.limits = limits
        self.host = Host(limits)
        self.workers = Workers(self.host, self._worker_died)
        self._launching = asyncio.Semaphore(LAUNCHES_AT_ONCE)
        self._busy_slots = 0  # slots taken, on all workers (the cgroups' CPU weight follows it)
        self._tasks: set[asyncio.Task[None]] = set()
        self._procs: set[RunProcess] = set()  # launched, not finished
        self._runs: dict[int, Run] = {}  # admitted, not finished
        self._running: set[Run] = set()
        self._waiting: deque[Run] = deque()
        self._next_id = 0
        self._closed = False
        self._started = False

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
        try:
            await self._start()
        except BaseException:
            await self._release_host()
            raise
        self._started = True
        log.info("runner ready: %s", self.describe())

    async def _start(self) -> None:
        interpreters, missing = [own_interpreter()], list[Unavailable]()
        if self.limits.pythons != ():
            interpreters, missing = await find_pythons(self.limits.pythons)
        self.host.prepare(interpreters)
        await self.workers.start(interpreters, missing)

    @property
    def pythons(self) -> Pythons:
        """The Python versions this runner offers (the default, each one's release, the unavailable ones)."""
        if not self.workers.engines:
            return Pythons.single(own_interpreter().release)
        return self.workers.pythons

    @property
    def _worker(self) -> Worker | None:
        """The default interpreter's worker."""
        engine = self.workers.engines.get(self.workers.default)
        return engine.worker if engine is not None else None

    @property
    def sandboxed(self) -> bool:
        return self.host.sandboxed

    @property
    def cgroups(self) -> CgroupPool | None:
        """The runs' cgroups (None: rlimits only)."""
        return self.host.cgroups

    @property
    def namespaces(self) -> bool:
        return self.host.namespaces

    @property
    def seccomp(self) -> bool:
        return self.host.seccomp

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
        engine = self.workers.of_worker(worker)
        if engine is None:
            return
        try:
            await self.workers.ensure(engine)
        except Exception:
            log.exception("could not start a new warm worker; the next run will try again")

    async def close(self) -> None:
        """Cancel every run (status cancelled), stop the worker, remove the runs' cgroups."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.workers.stop()
        await self._release_host()

    async def _release_host(self) -> None:
        await self.host.release()

    def describe(self) -> str:
        return f"{self.host.describe()}; {self.limits.max_concurrent} concurrent runs; {self.pythons.describe()}"

    @property
    def slots(self) -> int:
        """Runner slots (a uid and a cgroup each) on all workers: `max_concurrent` per interpreter."""
        return sum(len(engine.slots) for engine in self.workers.engines.values())

    @property
    def free_slots(self) -> int:
        """Slots no run holds (one being reclaimed after a lost worker counts as held)."""
        return sum(len(engine.free) for engine in self.workers.engines.values())

    @property
    def active(self) -> int:
        return len(self._running)

    @property
    def queued(self) -> int:
        return len(self._waiting)

    # -- admission -------------------------------------------------------------------------------
    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
    ) -> Run:
        """Admit a run on the `python` version (None: the default) and start it in the background; raises
        UserBusy / QueueFull / RunnerClosed / PythonUnavailable now."""
        version = self.pythons.resolve(python)
        self.check_admission(owner)
        return self._admit(code, name, timeout, owner, version, None)

    def run_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> list[Run]:
        """Admit the same program once on each of `pythons`, all or none (raises as `run` does); together they
        count as one run of `owner`'s.  The runs are in the order of `pythons`."""
        versions = [self.pythons.resolve(python) for python in pythons]
        self.check_admission(owner, runs=len(versions))
        runs: list[Run] = []
        for version in versions:
            runs.append(self._admit(code, name, timeout, owner, version, runs[0].id if runs else None))
        return runs

    def _admit(
        self, code: str, name: str, timeout: float | None, owner: int | None, python: str, group: int | None
    ) -> Run:
        lim = self.limits
        timeout = min(timeout if timeout is not None else lim.timeout_default, lim.timeout_max)
        self._next_id += 1
        run = Run(self, self._next_id, code, name, timeout, owner)
        run.python, run.group = python, group if group is not None else run.id
        self._runs[run.id] = run
        if len(self._running) < lim.max_concurrent and not self._waiting:
            self._running.add(run)
        else:
            run._slot = asyncio.get_running_loop().create_future()
            self._waiting.append(run)
            run.emit(Queued(position=len(self._waiting)))
        task = asyncio.create_task(self._execute(run), name=f"corobot-run-{run.id}")
        run._task = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._end_net(run))
        return run

    def check_admission(self, owner: int | None = None, runs: int = 1) -> None:
        """Raise what `run` (or `run_versions` with `runs` versions) would raise for this owner now
        (RunnerClosed, UserBusy, QueueFull); admit nothing."""
        lim = self.limits
        if self._closed:
            raise RunnerClosed()
        if owner is not None and len({r.group for r in self._runs.values() if r.owner == owner}) >= lim.per_user:
            raise UserBusy(lim.per_user)
        if len(self._runs) + runs > lim.max_concurrent + lim.queue_size:
            raise QueueFull(lim.queue_size)

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
        while self._waiting and len(self._running) < self.limits.max_concurrent:
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
        failure: str | None = None
        cancelled: asyncio.CancelledError | None = None
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
                await asyncio.wait_for(proc.wait_ended(), run.timeout)
            except TimeoutError:
                reason = Status.TIMEOUT
        except asyncio.CancelledError as exc:
            reason, cancelled = Status.CANCELLED, exc
        except Exception as exc:
            log.exception("run %s failed", run.id)
            failure = f"the runner failed: {exc}"
        finally:
            again = await self._end(run, proc, reason, failure, started_at)
        if cancelled is not None:
            raise cancelled
        if again is not None:
            raise again

    async def _end(
        self, run: Run, proc: RunProcess | None, reason: Status | None, failure: str | None, started_at: float
    ) -> asyncio.CancelledError | None:
        """Stop the run's processes, emit its one `Finished`, give its slot back.  Never raises: returns a
        CancelledError that arrived meanwhile, for the caller to re-raise after the bookkeeping."""
        again: asyncio.CancelledError | None = None
        try:
            if proc is not None:
                await self._stop(proc)
        except asyncio.CancelledError as exc:  # cancelled again (e.g. shutdown after /stop): finish anyway
            again = exc
            if proc is not None:
                proc.abandon()
        except Exception:
            log.exception("run %s: stopping it failed", run.id)
        try:
            oom = self.cgroups is not None and run.slot is not None and self.cgroups.oom_killed(run.slot)
            finished = decide(proc, Facts(reason, run.timeout, oom, failure, started_at), self.limits)
        except Exception as exc:
            log.exception("run %s: deciding its outcome failed", run.id)
            finished = Finished(Status.KILLED, 0.0, error=f"the runner failed: {exc}")
        if proc is None and failure is not None:
            run.emit(Started())
        # The worker's report says every process of the run is gone; otherwise (worker lost) make sure.
        self._end_net(run, finished, verify=proc is None or not proc.outcome.reported)
        if proc is not None:
            self._procs.discard(proc)
        return again

    def _end_net(self, run: Run, finished: Finished | None = None, *, verify: bool = True) -> None:
        """What every run gets exactly once, whatever happened: its `Finished`, its slot and place back.
        Also the task's done-callback: a task cancelled before it ever ran never reached its `finally`."""
        run.emit(finished or Finished(Status.CANCELLED, 0.0, error="cancelled before it started"))
        try:
            self._free_slot(run, verify)
        except Exception:
            log.exception("run %s: releasing its slot failed", run.id)
        self._release(run)

    def _free_slot(self, run: Run, verify: bool) -> None:
        slot, run.slot = run.slot, None
        if slot is None:
            return
        self._busy_slots -= 1
        if self.cgroups is None or not verify or self.cgroups.empty(slot):
            self.workers.of_slot(slot).free.append(slot)
            if self.cgroups is not None:
                self.cgroups.weigh(self._busy_slots)
            return
        task = asyncio.create_task(self._reclaim(self.cgroups, slot), name=f"corobot-reclaim-{slot}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reclaim(self, pool: CgroupPool, slot: int) -> None:
        """Processes outlived their run (its worker was lost): kill them by the slot's cgroup, then reuse it."""
        if await asyncio.to_thread(pool.kill, slot):
            self.workers.of_slot(slot).free.append(slot)
        else:
            log.warning("runner slot %s still holds processes after its run; not reusing it", slot)

    async def _take_slot(self, engine: Engine) -> int:
        for _ in range(int(LAUNCH_TIMEOUT / 0.05)):  # only short of slots while one is being reclaimed
            if engine.free:
                self._busy_slots += 1
                return engine.free.popleft()
            await asyncio.sleep(0.05)
        raise RunnerError("no free runner slot")

    async def _launch(self, run: Run) -> RunProcess:
        engine = self.workers.engine(run.python)
        worker = await self.workers.ensure(engine)
        lim = self.limits
        run.slot = slot = await self._take_slot(engine)
        if self.cgroups is not None:
            self.cgroups.begin(slot)
            self.cgroups.weigh(self._busy_slots)
        proc = RunProcess(run.emit, lim.output_bytes, lim.output_lines, run_id=run.id)
        header = {
            "id": run.id,
            "name": run.name,
            "uid": self.host.uid(slot),
            "tmp_root": "/tmp" if self.sandboxed else tempfile.gettempdir(),
            "slot": engine.local(slot) if self.cgroups is not None else None,
            "cpu_seconds": lim.cpu_seconds,
            "address_space_mb": 0 if self.cgroups is not None else lim.memory_mb,
            "file_size_mb": lim.file_size_mb,
            "open_files": lim.open_files,
            "processes": lim.processes,
            "output_bytes": lim.output_bytes,
            "output_lines": lim.output_lines,
        }
        pipes = [os.pipe2(os.O_CLOEXEC) for _ in range(3)]
        (ev_r, ev_w), (out_r, out_w), (err_r, err_w) = pipes
        control, far = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        started = False

        def on_started() -> None:
            nonlocal started
            started = True
            run.emit(Started())

        proc.on_started = on_started
        code = run.code.encode("utf-8", "surrogateescape")
        fds = [ev_w, out_w, err_w, far.fileno()]
        try:
            await proc.connect(ev_r, out_r, err_r, control)
            proc.launched = time.perf_counter()
            try:
                await worker.submit(header, code, fds)
            except WorkerError:
                log.warning("the warm worker of python %s is gone; restarting it", run.python)
                worker = await self.workers.ensure(engine)
                await worker.submit(header, code, fds)
        except BaseException:
            proc.abandon()
            raise
        finally:
            for fd in (ev_w, out_w, err_w):
                os.close(fd)
            far.close()
        proc.worker = worker
        self._procs.add(proc)
        if not started:
            run.emit(Started())  # ordering: Started precedes everything else even if the child is slow
            proc.on_started = None
        return proc

    async def _stop(self, proc: RunProcess) -> None:
        """Have the worker end the run, then read the pipes to their end (bounded waits)."""
        if not proc.ended:
            proc.kill()
            try:
                await asyncio.wait_for(proc.wait_ended(), DRAIN_TIMEOUT)
            except TimeoutError:
                log.warning("run %s: the worker did not report its end after a kill; abandoning it", proc.run_id)
                proc.abandon()
                return
        try:
            await asyncio.wait_for(proc.wait_drained(), DRAIN_TIMEOUT)
        except TimeoutError:
            log.warning("run %s: its pipes stayed open after its end; abandoning them", proc.run_id)
            proc.abandon()
        with contextlib.suppress(Exception):
            proc.abandon()  # its control channel and transports, if anything is left open
