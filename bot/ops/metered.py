"""`MeteredRunner`: any `RunnerLike`, with each run's wait, first output and final status counted.

It wraps the runs it hands out and watches their events as the front-end reads them, so the in-process
runner and the remote one are measured the same way, and nothing in the runners or the front-ends changes.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Sequence
from types import TracebackType

from bot.core.events import Event, Finished, Output, Started
from bot.core.runs import RunLike, RunnerLike
from bot.core.versions import Pythons
from bot.ops.metrics import Metrics


class MeteredRun:
    def __init__(self, inner: RunLike, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.admitted = time.perf_counter()
        self._first_output = False
        self._started = False

    @property
    def id(self) -> int:
        return self.inner.id

    @property
    def owner(self) -> int | None:
        return self.inner.owner

    @property
    def result(self) -> Finished | None:
        return self.inner.result

    def __aiter__(self) -> MeteredRun:
        self._events = aiter(self.inner)
        return self

    async def __anext__(self) -> Event:
        event = await anext(self._events)
        if isinstance(event, Started) and not self._started:
            self._started = True
            self.metrics.queue_wait.observe(time.perf_counter() - self.admitted)
        elif isinstance(event, Output) and not self._first_output:
            self._first_output = True
            self.metrics.first_output.observe(time.perf_counter() - self.admitted)
        elif isinstance(event, Finished):
            self.metrics.runs.labels(str(event.status)).inc()
        return event

    def cancel(self) -> None:
        self.inner.cancel()

    async def wait(self) -> Finished:
        async for _ in self:
            pass
        result = self.inner.result
        assert result is not None
        return result


class MeteredRunner:
    def __init__(self, inner: RunnerLike, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics

    @property
    def pythons(self) -> Pythons:
        return self.inner.pythons

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
        stdin: str | None = None,
    ) -> MeteredRun:
        run = self.inner.run(code, name=name, timeout=timeout, owner=owner, python=python, stdin=stdin)
        return MeteredRun(run, self.metrics)

    def run_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> list[MeteredRun]:
        runs = self.inner.run_versions(code, pythons, name=name, timeout=timeout, owner=owner)
        return [MeteredRun(run, self.metrics) for run in runs]

    def submit(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
        stdin: str | None = None,
    ) -> Awaitable[MeteredRun]:
        admitted = self.inner.submit(code, name=name, timeout=timeout, owner=owner, python=python, stdin=stdin)
        return self._submit(admitted)

    def submit_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> Awaitable[list[MeteredRun]]:
        return self._submit_all(self.inner.submit_versions(code, pythons, name=name, timeout=timeout, owner=owner))

    async def _submit(self, admitted: Awaitable[RunLike]) -> MeteredRun:
        return MeteredRun(await admitted, self.metrics)

    async def _submit_all(self, admitted: Awaitable[Sequence[RunLike]]) -> list[MeteredRun]:
        return [MeteredRun(run, self.metrics) for run in await admitted]

    def check_admission(self, owner: int | None = None, runs: int = 1) -> None:
        self.inner.check_admission(owner, runs)

    def cancel_owner(self, owner: int) -> int:
        return self.inner.cancel_owner(owner)

    def describe(self) -> str:
        return self.inner.describe()

    @property
    def active(self) -> int:
        return self.inner.active

    @property
    def queued(self) -> int:
        return self.inner.queued

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def __aenter__(self) -> MeteredRunner:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
