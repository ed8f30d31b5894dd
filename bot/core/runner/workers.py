"""One warm worker per interpreter: start them all, restart one that died, keep each one's free slots.

The default interpreter's worker (the bot's own Python) must start, as it always had to: if bubblewrap is
installed but fails to start it, everything goes on without the sandbox (`runner.sandbox: auto`, with a
warning) or start-up fails (`required`).  The other interpreters' workers start after it, all at once, in the
same containment; one that does not start, or that gets less containment than the default one (no private
namespaces, no seccomp filter), is listed as unavailable with the reason and never used: never an error at
start-up.

Each worker has its own slots (`Host.slot_range`): a uid and a cgroup each.  `Engine.free` lists its free
slots least recently used first, the order in which the worker's spares join them ahead of their runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.core.errors import RunnerError
from bot.core.runner import sandbox
from bot.core.runner.host import Host
from bot.core.runner.pythons import Interpreter
from bot.core.runner.warm import Worker, WorkerError
from bot.core.versions import Pythons, Unavailable, version_key

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Engine:
    """One interpreter's warm worker and its slots."""

    python: Interpreter
    index: int  # its place in `Host.prepare`'s interpreters: which commands and slots are its own
    slots: range
    free: deque[int] = field(default_factory=deque)  # free slots, least recently used first
    worker: Worker | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.free.extend(self.slots)

    def local(self, slot: int) -> int:
        """A slot's number as its worker knows it (its slots count from 0)."""
        return slot - self.slots.start


class Workers:
    """The engines by Python version, the default one first."""

    def __init__(self, host: Host, on_death: Callable[[Worker], None]) -> None:
        self.host = host
        self._on_death = on_death
        self.engines: dict[str, Engine] = {}
        self.unavailable: list[Unavailable] = []
        self.default = ""

    async def start(self, interpreters: Sequence[Interpreter], missing: Sequence[Unavailable] = ()) -> None:
        """Start a worker for each of `interpreters` (as prepared by `Host.prepare`, the default first)."""
        engines = [Engine(python, index, self.host.slot_range(index)) for index, python in enumerate(interpreters)]
        self.unavailable = list(missing)
        first = engines[0]
        try:
            await self._start_worker(first)
        except WorkerError as exc:
            if self.host.limits.sandbox != "auto" or not self.host.sandboxed:
                raise RunnerError(f"cannot start the example runner: {exc}") from exc
            log.warning("bubblewrap is installed but the sandbox failed to start (%s); using rlimits only", exc)
            self.host.fall_back()
            await self._start_worker(first)
        assert first.worker is not None
        self.host.note(first.worker.info)
        self.default = first.python.version
        self.engines = {first.python.version: first}
        others = engines[1:]
        problems = await asyncio.gather(*(self._start_other(engine) for engine in others))
        for engine, problem in zip(others, problems, strict=True):
            if problem is None:
                self.engines[engine.python.version] = engine
            else:
                python = engine.python
                log.warning("python %s (%s) is unavailable: %s", python.version, python.executable, problem)
                self.unavailable.append(Unavailable(engine.python.version, problem))
        self.unavailable.sort(key=lambda u: version_key(u.name))

    async def _start_other(self, engine: Engine) -> str | None:
        """Start another interpreter's worker; why it cannot be used, if it cannot."""
        try:
            await self._start_worker(engine)
        except WorkerError as exc:
            return f"its worker did not start: {exc}"
        assert engine.worker is not None
        problem = self.host.shortfall(engine.worker.info)
        if problem is not None:
            await engine.worker.stop()
            engine.worker = None
        return problem

    async def _start_worker(self, engine: Engine) -> None:
        command, pass_fds, memfd = self.host.worker_command(engine.index)
        try:
            worker = Worker(command, sandbox.clean_env(), on_death=self._on_death, pass_fds=pass_fds)
            await worker.start()
        finally:
            if memfd is not None:
                os.close(memfd)
        engine.worker = worker

    @property
    def pythons(self) -> Pythons:
        engines = sorted(self.engines.values(), key=lambda e: version_key(e.python.version))
        releases = tuple((e.python.version, e.python.release) for e in engines)
        return Pythons(self.default, releases, tuple(self.unavailable))

    def engine(self, version: str) -> Engine:
        return self.engines[version]

    def of_worker(self, worker: Worker) -> Engine | None:
        return next((engine for engine in self.engines.values() if engine.worker is worker), None)

    def of_slot(self, slot: int) -> Engine:
        return next(engine for engine in self.engines.values() if slot in engine.slots)

    async def ensure(self, engine: Engine) -> Worker:
        """The engine's worker, a new one if it died."""
        async with engine.lock:
            if engine.worker is None or not engine.worker.alive:
                if engine.worker is not None:
                    log.warning("the warm worker of python %s died; starting a new one", engine.python.version)
                    await engine.worker.stop()
                await self._start_worker(engine)
            assert engine.worker is not None
            return engine.worker

    async def stop(self) -> None:
        for engine in self.engines.values():
            if engine.worker is not None:
                await engine.worker.stop()
                engine.worker = None
