"""The harness inside the program's process (stdlib only; loaded by the warm worker before it forks).

`run_program()` installs the instrumentation and then runs the example as `__main__`:

* `sys.stdout` / `sys.stderr` become line writers that timestamp each line with `time.perf_counter`
  and send it as a JSON line over the run's event pipe (never mixed into the program's own fds 1/2,
  which stay connected to separate pipes for output written below Python, e.g. `os.write(1, ...)`);
  the byte and line caps are enforced here, before anything is sent.
* An event-loop policy builds every loop (`asyncio.run` makes its own) as `_Loop`: `create_task`
  records each task's lifecycle; the name is read when the event is sent (one callback later), because
  `create_task(name=)` / `TaskGroup` name a task only after the task factory has returned.
* Every loop callback (`Handle._run`) is timed; one that holds the loop longer than `BLOCK_THRESHOLD`
  becomes a `blocked` event. A callback that steps a task is charged to it as a run segment, and the line
  of the `await` a task waited on is read before its next step (`taskruns.py`). A watchdog thread samples
  the main thread's stack while a callback runs long, to name the program's line. Each loop wait is
  capped at `WAIT_CAP` so sleeps overshoot little.

Protocol (one JSON object per line, key `k`): start, out, task, blocking, blocked, error, limit, and the run
segments' seg, park, capped (`taskruns.py`).
"""

from __future__ import annotations

import asyncio
import atexit
import builtins
import contextlib
import importlib
import importlib.util
import io
import json
import linecache
import logging
import os
import resource
import selectors
import sys
import threading
import time
import types
from collections.abc import Callable, Coroutine
from contextvars import Context
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar

if TYPE_CHECKING:
    from bot.core.runner import taskruns, tracebacks
else:

    def _sibling(name: str) -> types.ModuleType:
        """A module beside this one, whether loaded as `bot.core.runner.child` or by path in the sandbox."""
        if __package__:
            return importlib.import_module(f"{__package__}.{name}")
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
        spec = importlib.util.spec_from_file_location(f"corobot_{name}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module

    taskruns = _sibling("taskruns")
    tracebacks = _sibling("tracebacks")

log = logging.getLogger(__name__)

BLOCK_THRESHOLD = 0.05  # seconds a callback may hold the loop before it counts as blocking
# Longest single wait of the loop's selector.  The kernel adds ~0.1% of a poll timeout as slack, so a
# 1 s sleep would overshoot ~1 ms; capped at 250 ms the slack stays <= 0.25 ms for 4 wake-ups a second
# (each costs ~0.1 ms of CPU: at 100 ms, 200 idle runs spent a fifth of a core waking up).
WAIT_CAP = 0.25
WATCH_INTERVAL = 0.04  # how often the watchdog looks at the running callback (blocks > 50 ms)
WATCH_IDLE = 3  # looks that find no callback running before the watchdog parks until one starts
FD_SETSIZE = 1024  # select(2) handles descriptors below this
MAX_TASK_EVENTS = 5000  # task events sent per run; more are dropped
_exit = os._exit  # ours: the program's os._exit is wrapped to flush a partial last line first

_T = TypeVar("_T")
_INTERNAL_TASKS = {"BaseEventLoop.shutdown_asyncgens", "BaseEventLoop.shutdown_default_executor"}  # asyncio.run


class Harness:
    """Per-run state shared by the output writers, the loop hooks and the watchdog."""

    def __init__(self, fd: int, name: str, out_bytes: int, out_lines: int) -> None:
        self.fd = fd
        self.name = name
        self.out_bytes = out_bytes
        self.out_lines = out_lines
        self.used_bytes = 0
        self.used_lines = 0
        self.lock = threading.Lock()
        self.t0 = time.perf_counter()
        self.main_ident = threading.get_ident()
        self.pending: list[tuple[asyncio.Task[Any], int, float, str]] = []
        self.task_ids = 0
        self.task_events = 0
        self.partial: dict[str, str] = {"stdout": "", "stderr": ""}
        self.cb_seq = 0
        self.cb_start = 0.0
        self.sample: tuple[int, int | None] = (-1, None)
        self.watchdog: threading.Thread | None = None
        self.parked = False  # the watchdog sleeps until `wake` is set by the next callback
        self.wake = threading.Event()
        self.runs = taskruns.TaskRuns(self.send, name)

    # -- the pipe ------------------------------------------------------------------------------
    def send(self, obj: dict[str, Any]) -> None:
        data = (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8", "backslashreplace")
        with self.lock:
            view = memoryview(data)
            while view:
                try:
                    n = os.write(self.fd, view)
                except InterruptedError:
                    continue
                except OSError:  # the parent is gone: nothing left to report to
                    _exit(1)
                view = view[n:]

    def now(self) -> float:
        return time.perf_counter() - self.t0

    # -- output --------------------------------------------------------------------------------
    def write(self, stream: str, text: str) -> None:
        if threading.get_ident() == self.main_ident:
            self.flush_tasks()
        buf = self.partial[stream] + text
        *lines, rest = buf.split("\n")
        for line in lines:
            self._line(stream, line, newline=True)
        self.partial[stream] = rest
        if self.used_bytes + len(rest) > self.out_bytes:  # an endless line without a newline
            self.partial[stream] = ""
            self._line(stream, rest, newline=False)

    def _line(self, stream: str, line: str, *, newline: bool) -> None:
        size = len(line.encode("utf-8", "backslashreplace")) + (1 if newline else 0)
        if self.used_bytes + size > self.out_bytes or self.used_lines + 1 > self.out_lines:
            room = max(0, self.out_bytes - self.used_bytes)
            if room and self.used_lines < self.out_lines:
                cut = line.encode("utf-8", "backslashreplace")[:room].decode("utf-8", "ignore")
                self.send({"k": "out", "s": stream, "x": cut, "t": self.now()})
            self.send({"k": "limit", "w": "output", "t": self.now()})
            self.runs.finish()  # the timeline of what ran until the limit
            _exit(0)
        self.used_bytes += size
        self.used_lines += 1
        self.send({"k": "out", "s": stream, "x": line, "t": self.now()})

    def flush_partial(self) -> None:
        for stream, rest in self.partial.items():
            if rest:
                self.partial[stream] = ""
                self._line(stream, rest, newline=False)

    # -- tasks ---------------------------------------------------------------------------------
    def task_created(self, task: asyncio.Task[Any], coro: object, created: float) -> None:
        """`coro` as create_task received it: Task.get_coro() on an eagerly completed task (3.12's eager task
        factory) crashes CPython 3.12.0-3.12.4 with SIGSEGV (gh-122332) and returns None on 3.13.  `created`
        is when create_task was called (an eager task's first step has run since)."""
        qualname = getattr(coro, "__qualname__", None) or getattr(coro, "__name__", None)
        qualname = qualname if isinstance(qualname, str) else ""
        if qualname in _INTERNAL_TASKS:
            return
        self.task_ids += 1
        task_id = self.task_ids
        self.pending.append((task, task_id, created - self.t0, qualname))
        if task_id <= taskruns.MAX_TRACKED:
            self.runs.track(task, task_id, coro, created)
        task.add_done_callback(lambda t: self.task_done(t, task_id, qualname))

    def flush_tasks(self) -> None:
        while self.pending:
            task, task_id, t, qualname = self.pending.pop(0)
            self._task_event(_display_name(task, qualname), "created", t, task_id)

    def task_done(self, task: asyncio.Task[Any], task_id: int, qualname: str) -> None:
        self.flush_tasks()
        self.runs.done(task)
        if task.cancelled():
            kind = "cancelled"
        else:  # `_exception`, not exception(): keep "exception was never retrieved" for the lesson
            kind = "failed" if getattr(task, "_exception", None) is not None else "done"
        self._task_event(_display_name(task, qualname), kind, self.now(), task_id)

    def finish(self) -> None:
        """What the program leaves unsent when it ends: task events, run segments, a partial last line."""
        self.flush_tasks()
        self.runs.finish()
        self.flush_partial()

    def _task_event(self, name: str, kind: str, t: float, task_id: int) -> None:
        self.task_events += 1
        if self.task_events <= MAX_TASK_EVENTS:
            self.send({"k": "task", "n": name, "e": kind, "t": t, "i": task_id})

    # -- blocking callbacks ----------------------------------------------------------------------
    def start_watchdog(self) -> None:
        if self.watchdog is not None:
            return
        old = threading.stack_size(256 * 1024)  # thread stacks count against RLIMIT_AS
        try:
            self.watchdog = threading.Thread(target=self._watch, name="corobot-watchdog", daemon=True)
            self.watchdog.start()
        finally:
            threading.stack_size(old)

    def _watch(self) -> None:
        idle = 0
        while True:
            if idle >= WATCH_IDLE:  # the loop is waiting, not running code: sleep until a callback starts
                self.parked = True
                if not self.cb_start:  # set before `parked` was: `_run` would not have woken us
                    self.wake.wait()
                self.wake.clear()
                self.parked = False
                idle = 0
            time.sleep(WATCH_INTERVAL)
            seq, start = self.cb_seq, self.cb_start
            if not start:
                idle += 1
                continue
            idle = 0
            if self.sample[0] == seq or time.perf_counter() - start < BLOCK_THRESHOLD:
                continue
            line = self.program_line(sys._current_frames().get(self.main_ident))
            if self.cb_seq != seq:
                continue
            self.sample = (seq, line)
            self.send({"k": "blocking", "t": start - self.t0, "l": line})

    def program_line(self, frame: types.FrameType | None) -> int | None:
        while frame is not None:
            if frame.f_code.co_filename == self.name:
                return frame.f_lineno
            frame = frame.f_back
        return None

    def blocked(self, seq: int, start: float, duration: float) -> None:
        line = self.sample[1] if self.sample[0] == seq else None
        self.send({"k": "blocked", "d": duration, "t": start - self.t0, "l": line})


class _Writer(io.TextIOBase):
    """`sys.stdout` / `sys.stderr` for the program: every line goes out with its time."""

    def __init__(self, harness: Harness, stream: str, fd: int) -> None:
        super().__init__()
        self._harness = harness
        self._stream = stream
        self._fd = fd

    encoding = "utf-8"
    errors = "backslashreplace"

    @property
    def line_buffering(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._fd

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._harness.write(self._stream, s)
        return len(s)


class _CappedSelect(selectors.SelectSelector):
    """select(2) takes its timeout in microseconds, where epoll rounds up to whole milliseconds (a sleep
    would end up to 1 ms late); with at most FD_SETSIZE open files per run, select(2) is safe.  Before the
    loop waits (every task suspended), `idle` gets a chance to send what was measured."""

    def __init__(self, idle: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._idle = idle

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout > WAIT_CAP:
            timeout = WAIT_CAP
        if timeout > 0 and self._idle is not None:
            self._idle()
        return super().select(timeout)


class _CappedEpoll(selectors.EpollSelector):
    def __init__(self, idle: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._idle = idle

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None or timeout > WAIT_CAP:
            timeout = WAIT_CAP
        if timeout > 0 and self._idle is not None:
            self._idle()
        return super().select(timeout)


def _selector(idle: Callable[[], None] | None = None) -> selectors.BaseSelector:
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return _CappedSelect(idle) if 0 <= fd_limit <= FD_SETSIZE else _CappedEpoll(idle)


class _Never:
    """A type no callback has: with it, no callback is charged to a task (`install(measure=False)`)."""


if TYPE_CHECKING:

    class _Bound(Protocol):
        __self__: object

    class _Handle(asyncio.Handle):
        _callback: _Bound  # what `_run` calls (typeshed does not declare it); a task's have `__self__`

else:
    _Handle = asyncio.Handle


def install(harness: Harness, *, measure: bool = True) -> None:
    """Hook loop creation, task creation and callback timing for every loop the program makes; `measure`
    False leaves out the run segments (the benchmark's baseline)."""

    class _Loop(asyncio.SelectorEventLoop):
        def create_task(  # type: ignore[override]
            self, coro: Coroutine[Any, Any, _T], *, name: str | None = None, context: Context | None = None
        ) -> asyncio.Task[_T]:
            created = time.perf_counter()
            task = super().create_task(coro, name=name, context=context)  # an eager task's first step runs here
            harness.task_created(task, coro, created)
            return task

    class _Policy(asyncio.DefaultEventLoopPolicy):
        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            harness.start_watchdog()
            return _Loop(_selector(harness.runs.idle))

    original: Callable[[_Handle], None] = asyncio.Handle._run
    main_ident = harness.main_ident
    runs = harness.runs
    # Bound once: the hot path below is inlined (see taskruns.py) because a method call per callback costs
    # more than the bookkeeping itself.  `states` is cleared per run, never replaced.
    task_state = runs.states.get
    step_type: type = runs.step_type if measure else _Never
    wake_type: type = runs.wake_type if measure else _Never
    perf_counter = time.perf_counter

    def _run(handle: _Handle) -> None:
        if threading.get_ident() != main_ident:
            original(handle)
            return
        if harness.pending:
            harness.flush_tasks()
        harness.cb_seq += 1
        seq = harness.cb_seq
        callback = handle._callback
        kind = type(callback)  # a task's step or wake-up: `__self__` is the task (states: live tracked tasks)
        state = task_state(id(callback.__self__)) if kind is step_type or kind is wake_type else None
        start = harness.cb_start = perf_counter()
        if harness.parked:  # read after cb_start is set, so the watchdog sees one or the other
            harness.wake.set()
        if state is not None and start - state.end > runs.gap:
            runs.new_segment(state, start)
        try:
            original(handle)
        finally:
            end = perf_counter()
            harness.cb_start = 0.0
            if state is not None:
                state.busy += end - start
                state.end = end
            if end - start > BLOCK_THRESHOLD:
                harness.blocked(seq, start, end - start)

    setattr(asyncio.Handle, "_run", _run)  # noqa: B010
    asyncio.set_event_loop_policy(_Policy())


def report_crash(harness: Harness, exc: BaseException) -> None:
    """The program's error, however it has to be said: with its traceback if that can be formatted, else
    just its type (e.g. a MemoryError that left no memory to format the traceback with)."""
    try:
        error, text = tracebacks.format_error(exc, harness.name)
    except BaseException:
        exc.__traceback__ = None  # let the frames go, then say what we can
        error, text = type(exc).__name__, f"{type(exc).__name__} (no traceback: formatting it failed)\n"
    try:
        harness.send({"k": "error", "type": type(exc).__name__, "e": error, "tb": text, "t": harness.now()})
    except BaseException:
        harness.send({"k": "error", "type": type(exc).__name__, "e": type(exc).__name__, "tb": "", "t": 0.0})


def prepare(*, measure: bool = True) -> Harness:
    """Install everything before the run is known (in the pre-forked spare), touching the hot paths once.

    Done ahead of the request, the copy-on-write page faults and first-call costs are not on the path
    from request to the program's first line.
    """
    harness = Harness(-1, "<spare>", 1 << 30, 1 << 30)
    install(harness, measure=measure)
    sys.stdout = _Writer(harness, "stdout", 1)
    sys.stderr = _Writer(harness, "stderr", 2)
    setattr(sys, "__stdout__", sys.stdout)  # noqa: B010
    setattr(sys, "__stderr__", sys.stderr)  # noqa: B010
    harness.fd = os.open(os.devnull, os.O_WRONLY)
    harness.write("stdout", "warm-up\n")
    harness.send({"k": "start", "t0": harness.t0, "pid": os.getpid(), "uid": os.getuid()})
    exec(compile("pass\n", "<warm-up>", "exec", dont_inherit=True), {})
    # A loop made and run once, here rather than in the program's asyncio.run (which then reaches the
    # program's first line ~1 ms sooner): no policy, so no watchdog thread yet.
    # A named task (only unnamed ones take a number) shows the harness the type of a task's step callback
    # and runs the run-segment bookkeeping once.
    loop = asyncio.SelectorEventLoop(_CappedSelect(harness.runs.idle))  # what the program gets under its file limit
    try:
        coro = _warm_up()
        task = loop.create_task(coro, name="corobot-warm-up")
        harness.task_created(task, coro, time.perf_counter())
        loop.run_until_complete(task)
    finally:
        loop.close()
    harness.finish()
    os.close(harness.fd)
    harness.used_bytes = harness.used_lines = 0
    harness.task_ids = harness.task_events = 0
    return harness


async def _warm_up() -> None:
    await asyncio.sleep(0)


def run_program(harness: Harness, code: bytes, name: str, event_fd: int, out_bytes: int, out_lines: int) -> NoReturn:
    """Run the example as `__main__` with all instrumentation; never returns."""
    harness.fd = event_fd
    harness.name = name
    harness.out_bytes = out_bytes
    harness.out_lines = out_lines
    harness.main_ident = threading.get_ident()
    source = code.decode("utf-8", "replace")
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=name, __builtins__=builtins, __cached__=None)
    sys.modules["__main__"] = module
    sys.argv = [name]

    def exit_now(status: int) -> NoReturn:  # the program's os._exit: what it printed without a newline counts
        with contextlib.suppress(BaseException):
            harness.finish()
        _exit(status)

    os._exit = exit_now
    exit_code = 0
    harness.t0 = time.perf_counter()
    harness.runs.filename = name
    harness.runs.reset(harness.t0)
    harness.send({"k": "start", "t0": harness.t0, "pid": os.getpid(), "uid": os.getuid()})
    try:
        program = compile(source, name, "exec", dont_inherit=True)
        exec(program, module.__dict__)
    except SystemExit as exc:
        if exc.code is None:
            exit_code = 0
        elif isinstance(exc.code, int):
            exit_code = exc.code
        else:
            harness.write("stderr", f"{exc.code}\n")
            exit_code = 1
    except BaseException as exc:
        report_crash(harness, exc)
        del exc
        exit_code = 1
    try:
        threading._shutdown()  # type: ignore[attr-defined]  # wait for non-daemon threads, as at exit
        atexit._run_exitfuncs()
    except BaseException as exc:
        report_crash(harness, exc)
        exit_code = exit_code or 1
    harness.finish()
    _exit(exit_code & 0xFF)


def _display_name(task: asyncio.Task[Any], qualname: str) -> str:
    """The task's own name; for an unnamed task (`Task-7`; `None` under a task factory on 3.13.0, gh-128307),
    its coroutine's name (`main`, `say`, the `qualname` seen at creation), which is what a learner recognises
    on the timeline."""
    name = task.get_name()
    if (name == "None" or (name.startswith("Task-") and name[5:].isdigit())) and qualname:
        return qualname.rsplit(".", 1)[-1]
    return name
