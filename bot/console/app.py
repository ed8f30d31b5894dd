"""The interactive terminal front-end: `corobot console`.

`ConsoleApp(catalog, runner, console=Console(file=...), stdin=...)` reads commands line by line
(`list`, `show ID`, `run ID[/EXAMPLE]`, `quiz ID`, `progress`, `reload`, `help`, `quit`) and renders with
rich, its labels in the language of `locale` (the text catalog in `bot/locales`).  Input is read by a daemon
thread, so a blocked `readline()` never keeps the process alive; EOF ends the session and `interrupt()`
(wired to Ctrl-C by `bot.__main__`) stops the current run, or the session when idle.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bot.console.compare import show_comparison
from bot.console.learning import ConsoleLearning
from bot.console.ports import CatalogPort, RunnerPort, resolve, split_python, unknown_message
from bot.console.quiz import CONSOLE_GUILD, CONSOLE_USER, ConsoleQuiz
from bot.console.render import event_text, print_lesson, print_lessons, print_summary
from bot.core.compare import RunGroup, versions_for
from bot.core.errors import RunnerError, UnknownExample, UnknownLesson
from bot.core.events import Event
from bot.core.lessons import Example, Lesson
from bot.core.record import RunHandle, RunRecord, record_run
from bot.core.review.service import Learning
from bot.core.storage import RunRecordRow, Storage
from bot.core.versions import version_tuple
from bot.locales import t
from bot.locales.wording import error_text

log = logging.getLogger(__name__)

PROMPT = "corobot> "
LEARNING_COMMANDS = {"review", "path", "streak", "timezone", "tz", "forget-me"}
SHOWN_LOAD_ERRORS = 5


class LineReader:
    """Reads lines from a text stream on a daemon thread and hands them to the event loop."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _pump(self) -> None:
        loop = self._loop
        assert loop is not None
        while True:
            try:
                line: str | None = self._stream.readline() or None
            except (OSError, ValueError):  # closed stream
                line = None
            try:
                loop.call_soon_threadsafe(self._queue.put_nowait, line)
            except RuntimeError:  # the loop is closed: nobody is listening any more
                return
            if line is None:
                return

    async def readline(self) -> str | None:
        """The next line without its newline, or None at end of input (or after `close()`)."""
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._pump, name="console-input", daemon=True)
            self._thread.start()
        line = await self._queue.get()
        if line is None:
            self._queue.put_nowait(None)  # stay at EOF
            return None
        return line.rstrip("\r\n")

    def close(self) -> None:
        self._queue.put_nowait(None)


async def show_run(
    console: Console,
    runner: RunnerPort,
    lesson: Lesson,
    example: Example,
    locale: str | None,
    *,
    width: int = 60,
    owner: int | None = None,
    on_start: Callable[[RunHandle], None] | None = None,
    python: str | None = None,
) -> RunRecord:
    """Run one example (on the `python` version; None: the runner's default), printing each line live with its
    time, then the summary and timeline.

    Raises `RunnerError` (busy, queue full, shutting down, no such Python) before anything is printed.
    """
    pythons = runner.pythons
    version = pythons.resolve(python)

    def started(handle: RunHandle) -> None:
        title = Text(f"▶ {lesson.id}/{example.id}", style="bold")
        if example.title is not None:
            title.append(f"  {example.title.get(locale)}", style="dim")
        if len(pythons.versions) > 1 or version != pythons.default:
            title.append("  " + t(locale, "compare.python", release=pythons.release(version)), style="cyan")
        console.print(title)
        if on_start is not None:
            on_start(handle)

    def show(event: Event) -> None:
        line = event_text(event, locale)
        if line is not None:
            console.print(line, soft_wrap=True)  # no inserted line breaks: pipes get the lines intact

    record = await record_run(runner, example, owner=owner, python=version, on_start=started, on_event=show)
    print_summary(console, record, example, locale, width=width, python=version)
    return record


class ConsoleApp:
    """One interactive session over a catalog and a runner (both built and owned by the caller)."""

    def __init__(
        self,
        catalog: CatalogPort,
        runner: RunnerPort,
        *,
        console: Console | None = None,
        stdin: TextIO | None = None,
        locale: str | None = None,
        width: int = 60,
        storage: Storage | None = None,
        learning: Learning | None = None,
    ) -> None:
        self.catalog = catalog
        self.runner = runner
        self.storage = storage
        self.learning = learning
        self.console = console or Console()
        self.reader = LineReader(stdin or sys.stdin)
        self.locale = locale
        self.width = width
        self._current: RunHandle | RunGroup | None = None
        self._stopping = False

    def interrupt(self) -> None:
        """Ctrl-C: stop the running example, or end the session when none is running."""
        if self._current is not None:
            self.console.print(Text(t(self.locale, "console.stopping"), style="yellow"))
            self._current.cancel()
            return
        self._stopping = True
        self.reader.close()

    async def run(self) -> int:
        """The read-eval-print loop; returns an exit code (0)."""
        loc = self.locale
        runner = Text(f"— {self.runner.describe()}", style="dim")
        self.console.print(Text(t(loc, "console.title"), style="bold"), runner)
        errors = self.catalog.errors
        if errors:
            self.console.print(Text(t(loc, "console.load_problems", count=len(errors)), style="yellow"))
            for error in errors[:SHOWN_LOAD_ERRORS]:
                self.console.print(Text(f"  {error}", style="yellow"))
            if len(errors) > SHOWN_LOAD_ERRORS:
                self.console.print(Text("  " + t(loc, "console.more_problems"), style="yellow"))
        self.console.print(Text(t(loc, "console.start_hint"), style="dim"))
        while not self._stopping:
            self.console.print(PROMPT, end="", markup=False, highlight=False)
            line = await self.reader.readline()
            if line is None:
                self.console.print()
                break
            try:
                if not await self.handle(line):
                    break
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one command must not end the session
                log.exception("console command %r failed", line)
                self.console.print(Text(t(self.locale, "console.command_failed"), style="red"))
        self.console.print(Text(t(self.locale, "console.bye"), style="dim"))
        return 0

    async def handle(self, line: str) -> bool:
        """Run one command line; False means quit."""
        command, _, arg = line.strip().partition(" ")
        command, arg = command.lower(), arg.strip()
        if not command:
            return True
        if command.isdigit() or (command.partition("/")[0].isdigit() and not arg):
            command, arg = "show" if "/" not in command else "run", command
        if command in {"quit", "exit", "q"}:
            return False
        if command in {"help", "?", "h"}:
            self.console.print(t(self.locale, "console.help"), markup=False, highlight=False)
        elif command in {"list", "ls", "l"}:
            print_lessons(self.console, self.catalog.lessons(), self.locale)
        elif command == "show":
            self._show(arg)
        elif command == "run":
            await self._run(arg)
        elif command == "quiz":
            await self._quiz(arg)
        elif command == "progress":
            await self._progress()
        elif command == "reload":
            self._reload()
        elif command in LEARNING_COMMANDS:
            await self._learning_command(command, arg)
        else:
            self.console.print(Text(t(self.locale, "console.unknown_command", command=repr(command)), style="red"))
        return True

    def _resolve(self, arg: str) -> tuple[Lesson, Example] | None:
        if not arg:
            self.console.print(Text(t(self.locale, "console.which_lesson"), style="red"))
            return None
        try:
            return resolve(self.catalog, arg)
        except (UnknownLesson, UnknownExample) as exc:
            self.console.print(Text(unknown_message(exc, self.catalog, self.locale), style="red"))
            return None

    def _show(self, arg: str) -> None:
        found = self._resolve(arg.partition("/")[0])
        if found is not None:
            print_lesson(self.console, found[0], self.locale)

    async def _run(self, arg: str) -> None:
        ref, python = split_python(arg)
        found = self._resolve(ref)
        if found is None:
            return
        lesson, example = found
        try:
            versions = versions_for(example, self.runner.pythons, python)
        except RunnerError as exc:
            self.console.print(Text(error_text(exc, self.locale, repr), style="red"))
            return
        unsupported = next((v for v in versions if not lesson.supported(version_tuple(v))), None)
        if unsupported is not None:
            required, version = lesson.requires_python, self.runner.pythons.release(unsupported)
            text = t(self.locale, "console.unsupported", lesson=lesson.id, required=required, version=version)
            self.console.print(Text(text))
            return
        try:
            if len(versions) > 1:
                console, locale, width = self.console, self.locale, self.width
                comparison = await show_comparison(
                    console, self.runner, lesson, example, versions, locale, width=width, on_start=self._started
                )
                done = comparison.overall()
            else:
                record = await show_run(
                    self.console,
                    self.runner,
                    lesson,
                    example,
                    self.locale,
                    width=self.width,
                    on_start=self._started,
                    python=versions[0],
                )
                done = record.finished
        except RunnerError as exc:
            self.console.print(Text(error_text(exc, self.locale, repr), style="red"))
            return
        finally:
            self._current = None
        if self.storage is not None and done is not None:
            row = RunRecordRow(CONSOLE_GUILD, CONSOLE_USER, lesson.id, example.id, str(done.status), done.elapsed)
            await self.storage.record_run(row)
            await self.storage.mark_lesson(CONSOLE_GUILD, CONSOLE_USER, lesson.id, completed=False)
        if self.learning is not None and done is not None:
            for finished in await self.learning.record_run(CONSOLE_GUILD, CONSOLE_USER):
                done_text = t(self.locale, "console.review.lesson_done", lesson=finished)
                self.console.print(Text(done_text, style="bold green"))

    async def _learning_command(self, command: str, arg: str) -> None:
        if self.learning is None:
            self.console.print(Text(t(self.locale, "console.learning_unavailable"), style="yellow"))
            return
        quiz = ConsoleQuiz(self.console, self.reader.readline, self.runner, self.storage, self.locale, self.learning)
        commands = ConsoleLearning(self.console, self.reader.readline, quiz, self.learning)
        if command == "review":
            await commands.review(arg)
        elif command == "path":
            await commands.path()
        elif command == "streak":
            await commands.streak()
        elif command in {"timezone", "tz"}:
            await commands.timezone(arg)
        else:
            await commands.forget_me()

    async def _quiz(self, arg: str) -> None:
        ref, _, count = arg.partition(" ")
        found = self._resolve(ref.partition("/")[0])
        if found is None:
            return
        if count.strip() and not count.strip().isdigit():
            self.console.print(Text(t(self.locale, "console.quiz_count"), style="red"))
            return
        quiz = ConsoleQuiz(self.console, self.reader.readline, self.runner, self.storage, self.locale, self.learning)
        await quiz.play(found[0], int(count) if count.strip() else None)

    async def _progress(self) -> None:
        if self.storage is None:
            self.console.print(Text(t(self.locale, "console.no_progress"), style="yellow"))
            return
        p = await self.storage.progress(CONSOLE_GUILD, CONSOLE_USER)
        accuracy = "—" if p.accuracy is None else f"{p.accuracy:.0%}"
        started, completed = len(p.lessons_started), len(p.lessons_completed)
        text = t(
            self.locale,
            "console.progress",
            started=started,
            completed=completed,
            runs=p.examples_run,
            ok=p.runs_ok,
            answers=p.answers,
            accuracy=accuracy,
            points=p.points,
        )
        self.console.print(text, markup=False, highlight=False)

    def _started(self, handle: RunHandle | RunGroup) -> None:
        self._current = handle

    def _reload(self) -> None:
        report = self.catalog.refresh()
        changed = t(self.locale, "console.reload_changed", count=len(report.loaded))
        self.console.print(t(self.locale, "console.reloaded", changed=changed, removed=len(report.removed)))
        for error in report.errors:
            self.console.print(Text(str(error), style="red"))
