"""Parent side of the warm worker process: start it, hand it runs over its unix socket, notice its death.

Per run the parent makes the pipes itself and passes their far ends to the worker with SCM_RIGHTS, so
the worker never relays output and no process is started from the event loop per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

READY_TIMEOUT = 10.0
MAX_HELLO = 4096
MAX_STDERR_LINES = 50


class WorkerError(RuntimeError):
    """The warm worker could not be started or reached."""


class Worker:
    """The warm worker process and the socket runs are handed over on."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        on_death: Callable[[Worker], None] | None = None,
        pass_fds: tuple[int, ...] = (),
    ) -> None:
        self._command = command
        self._pass_fds = pass_fds
        self._env = env
        self._on_death = on_death  # called if the process exits without `stop()`
        self._stopping = False
        self._proc: asyncio.subprocess.Process | None = None
        self._sock: socket.socket | None = None
        self._stderr_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self.info: dict[str, Any] = {}

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and self._sock is not None

    async def start(self) -> None:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._command,
                str(child.fileno()),
                pass_fds=[child.fileno(), *self._pass_fds],
                env=self._env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        finally:
            child.close()
        parent.setblocking(False)
        self._sock = parent
        self._stderr_task = asyncio.create_task(self._log_stderr(self._proc), name="corobot-worker-stderr")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(READY_TIMEOUT):
                hello = await loop.sock_recv(parent, MAX_HELLO)
        except (TimeoutError, OSError) as exc:
            await self.stop()
            raise WorkerError(f"the warm worker did not start: {exc or 'timeout'}") from None
        if not hello:
            await self.stop()
            raise WorkerError("the warm worker exited at start (see the log for its stderr)")
        info = json.loads(hello)
        self.info = info if isinstance(info, dict) else {}
        log.debug("warm worker ready: %s", self.info)
        self._watch_task = asyncio.create_task(self._watch(self._proc), name="corobot-worker-watch")

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if not self._stopping and self._on_death is not None:
            log.warning("the warm worker exited unexpectedly (%s)", code)
            self._on_death(self)

    async def _log_stderr(self, proc: asyncio.subprocess.Process) -> None:
        """The worker's stderr (a Python error of ours, bubblewrap's complaints): logged, at most a few lines."""
        assert proc.stderr is not None
        logged = 0
        while True:
            try:
                line = await proc.stderr.readline()
            except ValueError:  # a line over the reader's limit: take it in pieces
                line = await proc.stderr.read(65536)
            if not line:
                return
            logged += 1
            if logged <= MAX_STDERR_LINES:
                log.warning("worker: %s", line[:500].decode("utf-8", "replace").rstrip())
            elif logged == MAX_STDERR_LINES + 1:
                log.warning("worker: more on stderr; not logging it")

    async def submit(self, header: dict[str, Any], code: bytes, fds: list[int]) -> None:
        """Send one run (its header and the child ends of its pipes) to the worker."""
        if self._sock is None:
            raise WorkerError("the warm worker is not running")
        memfd = os.memfd_create("corobot-code", os.MFD_CLOEXEC)
        try:
            view = memoryview(code)
            while view:
                view = view[os.write(memfd, view) :]
            os.lseek(memfd, 0, os.SEEK_SET)
            data = json.dumps(header).encode()
            loop = asyncio.get_running_loop()
            async with self._send_lock:  # one writer waits on the socket at a time (add_writer replaces)
                await self._send(loop, data, [memfd, *fds])
        finally:
            os.close(memfd)

    async def _send(self, loop: asyncio.AbstractEventLoop, data: bytes, fds: list[int]) -> None:
        while True:
            if self._sock is None:
                raise WorkerError("the warm worker is not running")
            try:
                socket.send_fds(self._sock, [data], fds)
                return
            except BlockingIOError:
                ready: asyncio.Future[None] = loop.create_future()
                loop.add_writer(self._sock, ready.set_result, None)
                try:
                    await ready
                finally:
                    loop.remove_writer(self._sock)
            except OSError as exc:
                raise WorkerError(f"the warm worker is gone: {exc}") from exc

    async def stop(self) -> None:
        self._stopping = True
        if self._watch_task is not None and self._watch_task is not asyncio.current_task():
            self._watch_task.cancel()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        proc = self._proc
        if proc is not None and proc.returncode is None:
            try:
                await asyncio.wait_for(proc.wait(), 2.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                await proc.wait()
        if self._stderr_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._stderr_task, 1.0)
            self._stderr_task = None
