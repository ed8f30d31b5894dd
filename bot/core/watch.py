"""Change notifications for the lessons folder: inotify through watchfiles, read by a thread of our own.

watchfiles (https://github.com/samuelcolvin/watchfiles) wraps the Rust `notify` crate: recursive inotify
watches that follow new subfolders, events grouped into batches.  Its `awatch` runs the blocking wait in
anyio's shared thread pool and, when cancelled, returns only when that wait ends (5 s by default), leaving
a pool thread behind; so `Notifier` drives the same engine (`RustNotify`, documented as watchfiles' Rust
backend) from one thread it owns, which checks a stop flag every `STEP_MS` and is joined on `close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from pathlib import Path

from watchfiles._rust_notify import RustNotify

log = logging.getLogger(__name__)

STEP_MS = 20  # a batch is handed over once no new change came for this long (and stop is checked as often)
DEBOUNCE_MS = 300  # ... or after this long in a stream of changes (a folder being copied in)

_END = object()


class NotifierStopped(Exception):
    """The watch thread ended on its own (e.g. the watched folder went away or inotify failed)."""


class Notifier:
    """Batches of changed paths under `root`.  Create it with `await Notifier.start(root)`."""

    def __init__(
        self, root: Path, rust: RustNotify, loop: asyncio.AbstractEventLoop, identity: tuple[int, int] | None = None
    ) -> None:
        self.root = root
        self.identity = identity  # (st_dev, st_ino) of the folder watched, taken before the watch started
        self._rust = rust
        self._loop = loop
        self._stop = threading.Event()
        self._ended = asyncio.Event()
        self._queue: asyncio.Queue[set[str] | BaseException | object] = asyncio.Queue()
        self._thread = threading.Thread(target=self._run, name=f"lesson-watch {root}", daemon=True)
        self._thread.start()

    @classmethod
    async def start(cls, root: Path) -> Notifier:
        """Watch `root` recursively; raises (OSError, RuntimeError) when inotify cannot be used there."""
        # setting up walks the tree and adds a watch per folder: off the event loop
        rust, identity = await asyncio.to_thread(_open, root)
        return cls(root, rust, asyncio.get_running_loop(), identity)

    def _post(self, item: set[str] | BaseException | object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening any more
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                result = self._rust.watch(DEBOUNCE_MS, STEP_MS, 0, self._stop)
                if isinstance(result, set):
                    self._post({path for _, path in result})
                elif result == "stop":
                    break
        except Exception as exc:  # WatchfilesRustInternalError and the like: the watch broke
            self._post(exc)
        finally:
            self._post(_END)
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._ended.set)

    async def changes(self, within: float) -> set[str]:
        """The next batch of changed paths; empty after `within` seconds without one.

        Raises `NotifierStopped` once the watch has ended on its own."""
        try:
            item = await asyncio.wait_for(self._queue.get(), within)
        except TimeoutError:
            return set()
        if isinstance(item, set):
            return item
        if isinstance(item, BaseException):
            raise NotifierStopped(str(item) or type(item).__name__)
        raise NotifierStopped("the watch ended")

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    async def close(self, grace: float = 2.0) -> None:
        """Stop the thread (within `STEP_MS`), join it and release the inotify watches."""
        self._stop.set()
        if self._thread.is_alive():
            try:
                await asyncio.wait_for(self._ended.wait(), grace)
            except TimeoutError:
                log.warning("the lesson watch thread did not stop within %.1fs", grace)
        self._thread.join(timeout=0.1)
        if not self._thread.is_alive():
            self._rust.close()


def _open(root: Path) -> tuple[RustNotify, tuple[int, int]]:
    info = root.stat()  # first: a folder replaced meanwhile then looks replaced, never the other way round
    # watch_paths, debug, force_polling, poll_delay_ms, recursive, ignore_permission_denied (an unreadable
    # subfolder is the scan's to report; it must not stop the watch of the rest)
    return RustNotify([str(root)], False, False, 0, True, True), (info.st_dev, info.st_ino)
