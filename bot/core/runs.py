"""`RunnerLike`: what every front-end needs from a runner, whichever runs the programs.

Two implementations: `bot.core.runner.Runner` (the warm sandboxed worker in this process: the embedded default)
and `bot.cluster.remote.RemoteRunner` (runner nodes behind Redis).  A front-end holds a `RunnerLike` and never
knows which one it has.

- `run(...)` admits a run *now* where it can (the in-process runner raises `UserBusy` / `QueueFull` /
  `RunnerClosed` at once); a runner whose admission is a network round trip returns the handle at once and
  raises the refusal from the handle's first `__anext__` instead.  `record_run` (quizzes, `lessons check`, the
  console, `corobot run`) works with both: it raises the `RunnerError` either way.
- `run_versions(...)` / `await submit_versions(...)`: one program on several Python versions, all or none.
- `await submit(...)` is the same with the admission awaited: the refusal is raised before the handle is
  returned (the Discord `/run` uses it so that a refusal is still a private reply).
- `check_admission(owner)` is a cheap early "would this be refused?" from what this process knows; only
  `submit` is authoritative for a remote runner.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from types import TracebackType
from typing import Protocol, Self

from bot.core.events import Event, Finished
from bot.core.versions import Pythons


class RunLike(Protocol):
    """One admitted run: its events in order (`Queued`*, `Started`, ..., exactly one `Finished`), a way to stop it."""

    @property
    def id(self) -> int: ...

    @property
    def owner(self) -> int | None: ...

    @property
    def result(self) -> Finished | None: ...

    def __aiter__(self) -> AsyncIterator[Event]: ...

    def cancel(self) -> None: ...

    async def wait(self) -> Finished: ...


class RunnerLike(Protocol):
    @property
    def pythons(self) -> Pythons:
        """The Python versions it offers (a remote runner: those every live runner node has)."""
        ...

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
        stdin: str | None = None,
    ) -> RunLike: ...

    def run_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> Sequence[RunLike]:
        """The same program on each of `pythons`, admitted all or none, counting as one run of its owner's."""
        ...

    def submit(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
        stdin: str | None = None,
    ) -> Awaitable[RunLike]: ...

    def submit_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> Awaitable[Sequence[RunLike]]: ...

    def check_admission(self, owner: int | None = None, runs: int = 1) -> None: ...

    def cancel_owner(self, owner: int) -> int: ...

    def describe(self) -> str: ...

    @property
    def active(self) -> int:
        """Runs of this process that are running now (a remote runner: started on some node)."""
        ...

    @property
    def queued(self) -> int:
        """Runs of this process waiting for a slot."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
