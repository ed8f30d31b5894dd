"""`OwnedTasks`: the background tasks one object owns, held strongly until they end, stopped together.

The event loop keeps only weak references to tasks, so a task nobody holds can be garbage-collected
mid-flight.  An owner (a service, a front-end) spawns its tasks here instead of keeping its own set:

    self.tasks = OwnedTasks()
    self.tasks.spawn(self._stream(run), name=f"run-{run.id}")          # held until it ends
    self.tasks.spawn(self._driver(quiz), name=..., key=quiz.id)        # one task per key
    await self.tasks.close(grace=5.0)                                  # wait, then cancel the rest

A keyed task replaces nothing: `spawn` with a key that still has a running task returns that task (use
`cancel(key)` first to start over).  A task removes itself when it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Hashable, Iterator
from typing import Any


class OwnedTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[Hashable, asyncio.Task[Any]] = {}

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str, key: Hashable | None = None) -> asyncio.Task[Any]:
        if key is not None:
            running = self._keyed.get(key)
            if running is not None and not running.done():
                coro.close()
                return running
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        if key is not None:
            self._keyed[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._keyed.get(key) is task:
            del self._keyed[key]

    def get(self, key: Hashable) -> asyncio.Task[Any] | None:
        return self._keyed.get(key)

    def cancel(self, key: Hashable) -> None:
        """Cancel the task of `key` (unless it is the caller itself, which is about to end anyway)."""
        task = self._keyed.pop(key, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks)

    def __iter__(self) -> Iterator[asyncio.Task[Any]]:
        return iter(list(self._tasks))

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keyed

    async def wait(self) -> None:
        """Wait until every task running now has ended (tasks spawned meanwhile are not waited for)."""
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        if tasks:
            await asyncio.wait(tasks)

    async def close(self, grace: float = 0.0, *, settle: float = 2.0) -> None:
        """Let the tasks finish for up to `grace` seconds, cancel what is left and wait up to `settle` seconds
        for the cancelled ones to unwind."""
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        if not tasks:
            return
        pending: set[asyncio.Task[Any]] = set(tasks)
        if grace > 0:
            _done, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=settle)
