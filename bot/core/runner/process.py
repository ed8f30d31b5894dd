"""Parent side of the warm worker: start it, hand it runs, read each run's pipes with asyncio.

Per run the parent makes the pipes itself and passes their far ends to the worker with SCM_RIGHTS, so
the worker never relays output and no process is started from the event loop per run.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.events import Event, LoopBlocked, Output, Stream, TaskEvent

log = logging.getLogger(__name__)

READY_TIMEOUT = 10.0
MAX_EVENT_BYTES = 16 * 1024 * 1024  # non-output protocol bytes per run before we stop reading it


class WorkerError(RuntimeError):
    """The warm worker could not be started or reached."""


@dataclass
class RunOutcome:
    """What the child side reported about how a run ended (the parent adds its own reasons)."""

    t0: float | None = None
    uid: int | None = None
    error: str | None = None
    error_type: str | None = None
    traceback: str | None = None
    limit: str | None = None
    wait_status: int | None = None
    cpu: float = 0.0
    end: float | None = None
    failure: str | None = None
    pending_block: tuple[float, int | None] | None = field(default=None)


class _Pipe(asyncio.Protocol):
    def __init__(self, on_data: Callable[[bytes], None], on_eof: Callable[[], None]) -> None:
        self._on_data = on_data
        self._on_eof = on_eof

    def data_received(self, data: bytes) -> None:
        self._on_data(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._on_eof()


def _same(protocol: _Pipe) -> _Pipe:
    return protocol


class RunProcess:
    """One run's pipes: turns child messages into events, counts output, can ask for a kill."""

    def __init__(self, emit: Callable[[Event], None], output_bytes: int, output_lines: int) -> None:
        self._emit = emit
        self._output_bytes = output_bytes
        self._output_lines = output_lines
        self.used_bytes = 0
        self.used_lines = 0
        self.over_limit = False
        self.outcome = RunOutcome()
        self._buffers: dict[str, bytes] = {"events": b"", "stdout": b"", "stderr": b""}
        self._event_bytes = 0
        self._open = 3
        self._closed = asyncio.get_running_loop().create_future()
        self._control: int | None = None
        self._transports: list[asyncio.BaseTransport] = []
        self.on_started: Callable[[], None] | None = None
        self.worker: Worker | None = None  # the worker that runs it

    async def connect(self, event_r: int, out_r: int, err_r: int, control_w: int) -> None:
        loop = asyncio.get_running_loop()
        self._control = control_w
        for fd, key in ((event_r, "events"), (out_r, "stdout"), (err_r, "stderr")):
            pipe = os.fdopen(fd, "rb", buffering=0)
            protocol = _Pipe(functools.partial(self._data, key), self._eof)
            transport, _ = await loop.connect_read_pipe(functools.partial(_same, protocol), pipe)
            self._transports.append(transport)

    async def wait_closed(self) -> None:
        await asyncio.shield(self._closed)

    def kill(self) -> None:
        """Ask the run's supervisor to kill every process of the run (idempotent)."""
        if self._control is not None:
            with contextlib.suppress(OSError):
                os.write(self._control, b"k")
            os.close(self._control)
            self._control = None

    def abandon(self) -> None:
        self.kill()
        for transport in self._transports:
            transport.close()

    def _eof(self) -> None:
        self._open -= 1
        if self._open == 0:
            self.kill()
            if not self._closed.done():
                self._closed.set_result(None)

    def _data(self, key: str, data: bytes) -> None:
        buf = self._buffers[key] + data
        *lines, rest = buf.split(b"\n")
        self._buffers[key] = rest
        if key == "events":
            for line in lines:
                self._message(line)
            return
        for line in lines:
            self._raw(key, line)  # type: ignore[arg-type]
        if len(rest) > self._output_bytes:
            self._buffers[key] = b""
            self._raw(key, rest)  # type: ignore[arg-type]

    def _now(self) -> float:
        t0 = self.outcome.t0
        return time.perf_counter() - t0 if t0 is not None else 0.0

    def _raw(self, stream: Stream, line: bytes) -> None:
        self._output(stream, line.decode("utf-8", "replace"), self._now())

    def _output(self, stream: Stream, text: str, t: float) -> None:
        if self.over_limit:
            return
        size = len(text.encode("utf-8", "replace")) + 1
        if self.used_bytes + size > self._output_bytes + 1 or self.used_lines >= self._output_lines:
            self.over_limit = True
            room = self._output_bytes - self.used_bytes
            if room > 0 and self.used_lines < self._output_lines:
                self._emit(Output(stream, text.encode()[:room].decode("utf-8", "ignore"), t))
            self.kill()
            return
        self.used_bytes += size
        self.used_lines += 1
        self._emit(Output(stream, text, t))

    def _message(self, raw: bytes) -> None:
        try:
            msg: dict[str, Any] = json.loads(raw)
        except ValueError:
            log.warning("unreadable message from a run: %r", raw[:200])
            return
        kind = msg.get("k")
        if kind != "out":
            self._event_bytes += len(raw)
            if self._event_bytes > MAX_EVENT_BYTES:
                self.outcome.limit = self.outcome.limit or "output"
                self.kill()
                return
        o = self.outcome
        if kind == "out":
            self._output("stderr" if msg["s"] == "stderr" else "stdout", str(msg["x"]), float(msg["t"]))
        elif kind == "task":
            self._emit(TaskEvent(name=str(msg["n"]), event=msg["e"], t=float(msg["t"]), task_id=int(msg["i"])))
        elif kind == "blocking":
            o.pending_block = (float(msg["t"]), msg.get("l"))
        elif kind == "blocked":
            o.pending_block = None
            self._emit(LoopBlocked(duration=float(msg["d"]), t=float(msg["t"]), line=msg.get("l")))
        elif kind == "start":
            o.t0 = float(msg["t0"])
            o.uid = msg.get("uid")
            if self.on_started is not None:
                self.on_started()
        elif kind == "error":
            o.error, o.error_type, o.traceback = str(msg["e"]), str(msg["type"]), str(msg["tb"])
        elif kind == "limit":
            o.limit = str(msg["w"])
        elif kind == "exit":
            o.wait_status, o.cpu, o.end = int(msg["status"]), float(msg["cpu"]), float(msg["end"])
        elif kind == "fail":
            o.failure = str(msg["m"])
            log.error("run failed to start: %s", o.failure)


class Worker:
    """The warm worker process and the socket runs are handed over on."""

    def __init__(
        self, command: list[str], env: dict[str, str], on_death: Callable[[Worker], None] | None = None
    ) -> None:
        self._command = command
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
                pass_fds=[child.fileno()],
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
                hello = await loop.sock_recv(parent, 4096)
        except (TimeoutError, OSError) as exc:
            await self.stop()
            raise WorkerError(f"the warm worker did not start: {exc or 'timeout'}") from None
        if not hello:
            await self.stop()
            raise WorkerError("the warm worker exited at start (see the log for its stderr)")
        self.info = json.loads(hello)
        log.debug("warm worker ready: %s", self.info)
        self._watch_task = asyncio.create_task(self._watch(self._proc), name="corobot-worker-watch")

    async def _watch(self, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if not self._stopping and self._on_death is not None:
            log.warning("the warm worker exited unexpectedly (%s)", code)
            self._on_death(self)

    async def _log_stderr(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            log.warning("worker: %s", line.decode("utf-8", "replace").rstrip())

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
