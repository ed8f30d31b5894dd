"""`corobot` / `python -m bot`: the composition root.

Loads settings, configures logging once (stderr), builds the catalog and the runner and passes them to
a front-end.  Nothing else in the package builds shared resources.

    corobot [--config PATH] [--lessons DIR] [--locale L] [--log-level LEVEL] COMMAND
      console                                  interactive terminal (default without DISCORD_TOKEN)
      run LESSON[/EXAMPLE] [--json] [--width N] [--python 3.12] [--timeline-png FILE]
                                               run one example; exit 0 only when it ends ok
      try FILE [--stdin FILE]                  run your own program (learner code); exit 0 when it ends ok
      exercise LESSON[/EXERCISE] [FILE]        show an exercise, or grade FILE against it; exit 0 when it passes
      lessons list [--json]                    lessons in prerequisite order with their example ids
      lessons check [DIR] [--require-locales en,zh-CN] [--require-pythons 3.11,3.12,3.13]
      lessons schema [--output PATH]
      discord                                  the Discord bot (default when DISCORD_TOKEN is set)
      runner-node                              run examples for the bot processes (cluster.redis_url)
      db migrate | db copy --to URL [--replace] | db backup FILE [--force]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack, suppress
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.composition import (
    bot_checks,
    learner_quota,
    open_ops,
    open_peers,
    open_redis,
    open_runner,
    run_node,
    start_quotas,
    storage_metrics,
)
from bot.config import Settings, discord_token, load_settings
from bot.console import ConsoleApp, learner, show_run
from bot.console.compare import show_comparison
from bot.console.ports import resolve, unknown_message
from bot.core.catalog import Catalog
from bot.core.check import check_lessons
from bot.core.compare import record_comparison, versions_for
from bot.core.errors import ConfigError, CorobotError, StorageError, UnknownExample, UnknownLesson
from bot.core.events import Event, Status, event_to_dict
from bot.core.exercises import find_exercise
from bot.core.lessons import Example, Lesson
from bot.core.playground import Playground
from bot.core.playground.service import ExerciseResult
from bot.core.record import RunRecord, record_run
from bot.core.review.service import Learning
from bot.core.runs import RunnerLike
from bot.core.schema import write_schema
from bot.core.timeline import format_seconds
from bot.core.timeline_image import render_png
from bot.core.versions import normalize, version_tuple
from bot.locales import language_of
from bot.locales.wording import failure_text, legend
from bot.storage.faults import redact
from bot.storage.sql import SqlStorage
from bot.storage.url import default_url, scheme, sqlite_path, storage_for

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("config.yaml")
DEFAULT_SCHEMA = Path("lessons/lesson.schema.json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
EXIT_USAGE = 2


class CommandError(CorobotError):
    """A problem with what was asked (unknown lesson, missing folder): one line, exit 2."""


# --- arguments ---------------------------------------------------------------------------------------


def _global_options() -> argparse.ArgumentParser:
    """Options accepted before or after the command: `corobot --locale zh-CN run x` = `corobot run x --locale zh-CN`."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("global options")
    group.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="settings file (default: ./config.yaml)")
    group.add_argument("--lessons", type=Path, default=argparse.SUPPRESS, help="lessons folder (overrides the config)")
    group.add_argument("--locale", default=argparse.SUPPRESS, help="language of lesson texts, e.g. en, zh-CN")
    group.add_argument(
        "--log-level", type=str.upper, choices=LOG_LEVELS, default=argparse.SUPPRESS, help="log level (stderr)"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _global_options()
    parser = argparse.ArgumentParser(
        prog="corobot", description="Learn Python coroutines by running them.", parents=[common]
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("console", parents=[common], help="interactive terminal session")
    run = commands.add_parser("run", parents=[common], help="run one example and show its timed output")
    run.add_argument("ref", metavar="LESSON_ID[/EXAMPLE_ID]", help="a lesson id, optionally /example id")
    run.add_argument("--json", action="store_true", help="one JSON object per event per line")
    run.add_argument("--width", type=int, default=60, help="timeline width in columns (default 60)")
    run.add_argument(
        "--python",
        metavar="VERSION",
        help="the Python version to run on, e.g. 3.12 (default: corobot's own; a version comparison runs on each)",
    )
    learner = commands.add_parser("try", parents=[common], help="run your own program, sandboxed like the examples")
    learner.add_argument("file", type=Path, metavar="FILE", help="a Python file (- for standard input)")
    learner.add_argument("--stdin", type=Path, metavar="FILE", help="what the program reads with input()")
    learner.add_argument("--width", type=int, default=60, help="timeline width in columns (default 60)")
    exercise = commands.add_parser("exercise", parents=[common], help="show a lesson's exercise, or grade FILE")
    exercise.add_argument("ref", metavar="LESSON_ID[/EXERCISE_ID]", help="a lesson id, optionally /exercise id")
    exercise.add_argument("file", type=Path, nargs="?", metavar="FILE", help="your solution (omit to see the task)")
    exercise.add_argument("--width", type=int, default=60, help="timeline width in columns (default 60)")
    run.add_argument("--timeline-png", type=Path, metavar="FILE", help="also write the run's timeline as a PNG image")
    lessons = commands.add_parser("lessons", parents=[common], help="list, check or describe lessons")
    lesson_commands = lessons.add_subparsers(dest="lessons_command", metavar="ACTION", required=True)
    listing = lesson_commands.add_parser("list", parents=[common], help="lessons in prerequisite order")
    listing.add_argument("--json", action="store_true", help="a JSON array")
    check = lesson_commands.add_parser("check", parents=[common], help="validate lessons and run every example")
    check.add_argument("dir", nargs="?", type=Path, help="lessons folder (default: the configured one)")
    check.add_argument(
        "--require-locales", default="", metavar="LOCALES", help="comma-separated, e.g. en,zh-CN: texts must have them"
    )
    check.add_argument(
        "--require-pythons",
        default="",
        metavar="VERSIONS",
        help="comma-separated, e.g. 3.11,3.12,3.13: fail unless the runner has each (CI: no version silently skipped)",
    )
    schema = lesson_commands.add_parser("schema", parents=[common], help="write the lesson JSON schema")
    schema.add_argument("--output", type=Path, default=DEFAULT_SCHEMA, help=f"default: {DEFAULT_SCHEMA}")
    commands.add_parser("discord", parents=[common], help="run the Discord bot (needs DISCORD_TOKEN)")
    commands.add_parser(
        "runner-node", parents=[common], help="run examples for the bot processes, from Redis (cluster.redis_url)"
    )
    db = commands.add_parser("db", parents=[common], help="the database: migrate, copy to PostgreSQL, back up")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("migrate", parents=[common], help="apply the schema migrations it lacks (idempotent)")
    copy = db_commands.add_parser("copy", parents=[common], help="copy the SQLite database into PostgreSQL, online")
    copy.add_argument("--to", required=True, metavar="URL", help="postgresql://user@host:5432/database")
    copy.add_argument("--replace", action="store_true", help="empty the target first if it holds rows")
    backup = db_commands.add_parser("backup", parents=[common], help="back up the SQLite database, online")
    backup.add_argument("file", type=Path, metavar="FILE", help="where to write the copy")
    backup.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    return parser


def load(args: argparse.Namespace) -> Settings:
    """Settings from the config file (or defaults) with command-line overrides; raises ConfigError."""
    config: Path | None = getattr(args, "config", None)
    if config is None and DEFAULT_CONFIG.is_file():
        config = DEFAULT_CONFIG
    settings = load_settings(config)
    try:
        if getattr(args, "lessons", None) is not None:
            settings.lessons_dir = args.lessons
        if getattr(args, "locale", None):
            settings.locale = args.locale
        if getattr(args, "log_level", None):
            settings.log_level = args.log_level
    except ValueError as exc:  # pydantic's ValidationError
        raise ConfigError(f"invalid command-line option: {exc}") from None
    return settings


LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
CONSOLE_LOG_NAME = "corobot.log"


def configure_logging(level: str, log_file: Path | None = None) -> None:
    """Log at `level` to stderr; with `log_file` (the console, whose screen is the UI), log there instead
    and keep only warnings and errors on stderr."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
            handlers[0].setLevel(max(logging.WARNING, logging.getLevelName(level)))
        except OSError as exc:
            print(f"corobot: cannot write the log file {log_file} ({exc}); logging to stderr", file=sys.stderr)
    logging.basicConfig(level=level, format=LOG_FORMAT, handlers=handlers, force=True)


# --- shared pieces ------------------------------------------------------------------------------------


def _catalog(root: Path, *, load: bool = True, cache_dir: Path | None = None) -> Catalog:
    """The catalog over `root`, loaded (load errors logged as warnings) unless `load` is False; parsed lesson
    files are cached in `cache_dir` (the data folder's `cache/`)."""
    if not root.is_dir():
        raise CommandError(f"lessons folder {str(root)!r} does not exist (set lessons_dir or pass --lessons DIR)")
    catalog = Catalog(root, cache_dir=cache_dir)
    if not load:
        return catalog
    report = catalog.load()
    log.debug("lessons from %s: %d loaded, %d error(s)", root, len(catalog.lessons()), len(report.errors))
    for error in report.errors:
        log.warning("%s", error)
    return catalog


def _resolve(catalog: Catalog, ref: str, locale: str | None) -> tuple[Lesson, Example]:
    try:
        return resolve(catalog, ref)
    except (UnknownLesson, UnknownExample) as exc:
        raise CommandError(unknown_message(exc, catalog, locale)) from None


# --- commands -----------------------------------------------------------------------------------------


def _cmd_console(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_console(settings))


def database_url(settings: Settings) -> str:
    """`storage.url`, else the SQLite file in `data_dir`."""
    return settings.storage.url or default_url(settings.data_dir)


def open_storage(settings: Settings) -> SqlStorage:
    """The configured storage, not yet opened; raises ConfigError for an unusable URL."""
    return storage_for(database_url(settings), busy_timeout=settings.storage.busy_timeout)


def lesson_cache_dir(settings: Settings) -> Path:
    """Where parsed lesson files are cached (safe to delete: it is rebuilt on the next load)."""
    return settings.data_dir / "cache"


def build_learning(settings: Settings, storage: SqlStorage, catalog: Catalog) -> Learning:
    """Spaced review, the path and streaks over the storage and the catalog (`review:` settings)."""
    return Learning(storage, catalog, settings.review.learning())


async def _console(settings: Settings) -> int:
    catalog = _catalog(settings.lessons_dir, cache_dir=lesson_cache_dir(settings))
    storage = open_storage(settings)
    await storage.open()
    try:
        learning = build_learning(settings, storage, catalog)
        await learning.reconcile()  # cards follow lesson edits made while corobot was stopped
        await learning.prune()
        async with AsyncExitStack() as stack:
            runner = await open_runner(settings, stack, open_redis(settings, stack, "console"))
            app = ConsoleApp(catalog, runner, locale=settings.locale, storage=storage, learning=learning)
            # hot reload (strong ref); review cards follow each change
            watcher = asyncio.create_task(catalog.watch(on_change=learning.lessons_changed), name="lesson-watcher")
            loop = asyncio.get_running_loop()
            with suppress(NotImplementedError, RuntimeError):  # not the main thread / not Unix
                loop.add_signal_handler(signal.SIGINT, app.interrupt)
            try:
                return await app.run()
            finally:
                watcher.cancel()
                with suppress(asyncio.CancelledError):
                    await watcher
                with suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signal.SIGINT)
    finally:
        await storage.close()


def _cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(args, settings))


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    catalog = _catalog(settings.lessons_dir, cache_dir=lesson_cache_dir(settings))
    lesson, example = _resolve(catalog, args.ref, settings.locale)
    async with AsyncExitStack() as stack:
        runner = await open_runner(settings, stack, open_redis(settings, stack, "run"))
        versions = versions_for(example, runner.pythons, args.python)
        for version in versions:
            if not lesson.supported(version_tuple(version)):
                release = runner.pythons.release(version)
                raise CommandError(f"{lesson.id} needs Python {lesson.requires_python}; this is {release}")
        console = Console(highlight=False)
        if len(versions) > 1:
            return await _compare(args, settings, runner, lesson, example, versions, console)
        if args.json:

            def emit(event: Event) -> None:
                print(json.dumps(event_to_dict(event), ensure_ascii=False), flush=True)

            record = await record_run(runner, example, python=versions[0], on_event=emit)
        else:
            record = await show_run(
                console, runner, lesson, example, settings.locale, width=args.width, python=versions[0]
            )
    if args.timeline_png is not None:
        write_timeline_png(args.timeline_png, record, lesson, example, settings.locale)
    return 0 if record.status == Status.OK else 1


def _read(path: Path, what: str) -> str:
    """A file's text (`-`: standard input); a clear error when it cannot be read."""
    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {what} {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None


def _cmd_try(args: argparse.Namespace, settings: Settings) -> int:
    code = _read(args.file, "the program")
    stdin = _read(args.stdin, "the input") if args.stdin is not None else None
    name = args.file.name if str(args.file) != "-" else "main.py"

    async def action(console: Console, playground: Playground) -> RunRecord:
        return await learner.try_code(console, playground, code, stdin, settings.locale, name=name, width=args.width)

    return asyncio.run(_learner(settings, action))


def _cmd_exercise(args: argparse.Namespace, settings: Settings) -> int:
    catalog = _catalog(settings.lessons_dir, cache_dir=lesson_cache_dir(settings))
    lesson_id, _, exercise_id = args.ref.partition("/")
    lesson, exercise = find_exercise(catalog.lessons(), lesson_id.strip(), exercise_id.strip() or None)
    if args.file is None:
        learner.print_exercise(Console(highlight=False), lesson, exercise, settings.locale)
        return 0
    code = _read(args.file, "the solution")

    async def action(console: Console, playground: Playground) -> ExerciseResult:
        return await learner.grade_code(console, playground, lesson, exercise, code, settings.locale, width=args.width)

    return asyncio.run(_learner(settings, action))


async def _learner(settings: Settings, action: Callable[[Console, Playground], Awaitable[object]]) -> int:
    """Learner code from the terminal: the configured limits and storage (the log, exercise points), no quota."""
    storage = open_storage(settings)
    try:
        await storage.open()
    except StorageError as exc:
        raise CommandError(" ".join(str(exc).split())) from None
    try:
        async with AsyncExitStack() as stack:
            runner = await open_runner(settings, stack, open_redis(settings, stack, "learner"))
            playground = Playground(runner, storage, None, settings.playground.limits())
            outcome = await action(Console(highlight=False), playground)
    finally:
        await storage.close()
    if isinstance(outcome, RunRecord):
        return 0 if outcome.status == Status.OK else 1
    return 0 if isinstance(outcome, ExerciseResult) and outcome.grade.passed else 1
def write_timeline_png(path: Path, record: RunRecord, lesson: Lesson, example: Example, locale: str | None) -> None:
    """`run --timeline-png FILE`: the timeline image (what Discord attaches), in the terminal's language."""
    elapsed = f" · {format_seconds(record.elapsed)}" if record.elapsed is not None else ""
    title = f"{lesson.id}/{example.id}{elapsed}"
    png = render_png(record, source=example.code, title=title, legend=legend(language_of(locale)))
    if png is None:
        print(f"corobot: {example.id} started no task: no timeline written to {path}", file=sys.stderr)
        return
    try:
        path.write_bytes(png)
    except OSError as exc:
        raise CommandError(f"cannot write the timeline image to {path}: {exc.strerror or exc}") from None


async def _compare(
    args: argparse.Namespace,
    settings: Settings,
    runner: RunnerLike,
    lesson: Lesson,
    example: Example,
    versions: list[str],
    console: Console,
) -> int:
    """A version comparison: exit 0 only when every run ends ok.  With --json each event carries `python`."""
    if args.json:

        def emit(version: str, event: Event) -> None:
            print(json.dumps({**event_to_dict(event), "python": version}, ensure_ascii=False), flush=True)

        comparison = await record_comparison(runner, example, versions, on_event=emit)
    else:
        locale, width = settings.locale, args.width
        comparison = await show_comparison(console, runner, lesson, example, versions, locale, width=width)
    if args.timeline_png is not None:
        print("corobot: --timeline-png draws one run: add --python VERSION to pick it", file=sys.stderr)
    overall = comparison.overall()
    return 0 if overall is not None and overall.status == Status.OK else 1


def _cmd_lessons(args: argparse.Namespace, settings: Settings) -> int:
    action: Callable[[argparse.Namespace, Settings], int] = {
        "list": _lessons_list,
        "check": _lessons_check,
        "schema": _lessons_schema,
    }[args.lessons_command]
    return action(args, settings)


def _lessons_list(args: argparse.Namespace, settings: Settings) -> int:
    catalog = _catalog(settings.lessons_dir, cache_dir=lesson_cache_dir(settings))
    lessons = catalog.lessons()
    if args.json:
        rows = [
            {
                "id": lesson.id,
                "title": lesson.title.get(settings.locale),
                "level": lesson.level,
                "prerequisites": list(lesson.prerequisites),
                "examples": [e.id for e in lesson.examples],
                "questions": len(lesson.quiz),
                "path": str(catalog.source(lesson.id)),
            }
            for lesson in lessons
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    width = max((len(lesson.id) for lesson in lessons), default=0)
    for lesson in lessons:
        examples = ", ".join(e.id for e in lesson.examples)
        print(f"{lesson.id:<{width}}  {lesson.title.get(settings.locale)}  [{examples}]")
    if not lessons:
        print(f"no lessons in {settings.lessons_dir}", file=sys.stderr)
    return 0


def _lessons_check(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_check(args, settings))


async def _check(args: argparse.Namespace, settings: Settings) -> int:
    root: Path = args.dir or settings.lessons_dir
    # check_lessons loads it and reports every error itself
    catalog = _catalog(root, load=False, cache_dir=lesson_cache_dir(settings))
    locales = [part.strip() for part in args.require_locales.split(",") if part.strip()]
    required = [part.strip() for part in args.require_pythons.split(",") if part.strip()]
    async with AsyncExitStack() as stack:
        runner = await open_runner(settings, stack, open_redis(settings, stack, "check"))
        pythons = runner.pythons
        print(f"runner: {pythons.describe()}", flush=True)
        reasons = {u.name: u.reason for u in pythons.unavailable}
        missing = [v for v in required if normalize(v) not in pythons]
        for version in missing:
            why = reasons.get(normalize(version) or version, "not found (pyenv versions, python3.N on PATH)")
            print(f"FAIL  python {version} is required (--require-pythons) but unavailable: {why}", flush=True)
        describe = functools.partial(failure_text, locale=settings.locale)
        summary = await check_lessons(catalog, runner, require_locales=locales, describe=describe, pythons=pythons)
    return 1 if missing else summary.exit_code


def _lessons_schema(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.output
    path.parent.mkdir(parents=True, exist_ok=True)
    write_schema(path)
    print(f"wrote {path}")
    return 0


def _cmd_discord(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_discord(settings))


async def _discord(settings: Settings) -> int:
    from bot.discord_app.app import run_discord  # the only import of discord, and only for this command

    token = discord_token()
    if not token:
        raise CommandError(
            "DISCORD_TOKEN is not set: export the bot token from the Discord developer portal "
            "(or run `corobot console` to use corobot in this terminal)"
        )
    catalog = _catalog(settings.lessons_dir, cache_dir=lesson_cache_dir(settings))
    storage = open_storage(settings)
    try:
        await storage.open()
    except StorageError as exc:
        raise CommandError(" ".join(str(exc).split())) from None  # one line, names the file; exit 2
    try:
        learning = build_learning(settings, storage, catalog)
        await learning.reconcile()  # cards follow lesson edits made while corobot was stopped
        await learning.prune()
        async with AsyncExitStack() as stack:
            ops = await open_ops(settings, stack, "bot")
            metrics = ops[0] if ops is not None else None
            redis = open_redis(settings, stack, "bot")
            quotas = start_quotas(settings) if redis is not None else []
            runner = await open_runner(settings, stack, redis, metrics=metrics, quotas=quotas)
            options: dict[str, Any] = {"peers": await open_peers(settings, stack, redis), "learning": learning}
            options["learner_quota"] = learner_quota(settings, redis)
            if metrics is not None:
                options["http_trace"] = metrics.rest_trace()
                storage_metrics(metrics, storage)
            on_bot = functools.partial(bot_checks, ops[1], redis, storage) if ops is not None else None
            # hot reload (strong ref); review cards follow each change
            watcher = asyncio.create_task(catalog.watch(on_change=learning.lessons_changed), name="lesson-watcher")
            try:
                return await run_discord(settings, token, catalog, runner, storage, on_bot=on_bot, **options)
            finally:
                watcher.cancel()
                with suppress(asyncio.CancelledError):
                    await watcher
    finally:
        await storage.close()


def _cmd_runner_node(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.cluster.redis_url:
        raise CommandError(
            "a runner node takes its runs from Redis: set cluster.redis_url (or COROBOT_CLUSTER__REDIS_URL), "
            "the same as the bot processes'"
        )
    return asyncio.run(run_node(settings))


def _cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from bot.storage import admin  # asyncpg only for these commands

    url = database_url(settings)
    shown = redact(url)
    if args.db_command == "migrate":
        before, after = asyncio.run(admin.migrate(open_storage(settings)))
        done = f"migrated from version {before}" if after != before else "up to date"
        print(f"{shown}: schema version {after} ({done})")
        return 0
    if args.db_command == "copy":
        if scheme(url) != "sqlite":
            raise CommandError(f"db copy copies a SQLite database to PostgreSQL; storage.url is {shown}")
        if scheme(args.to) != "postgresql":
            raise CommandError(f"--to must be a postgresql:// URL, not {redact(args.to)}")
        report = asyncio.run(admin.copy_to_postgres(sqlite_path(url), args.to, replace=args.replace))
        for table, count in report.rows.items():
            print(f"  {table:<16} {count:>9} rows")
        replaced = f" (replaced {report.replaced})" if report.replaced else ""
        print(f"copied {report.total} rows{replaced} from {shown} to {redact(args.to)}; row counts verified")
        return 0
    if scheme(url) != "sqlite":
        print(admin.pg_dump_command(url, args.file))
        raise CommandError("db backup backs up a SQLite file; for PostgreSQL use pg_dump, e.g. the command above")
    counts = admin.backup_sqlite(sqlite_path(url), args.file, overwrite=args.force)
    rows = ", ".join(f"{table} {n}" for table, n in counts.items())
    print(f"backed up {shown} to {args.file} ({args.file.stat().st_size} bytes; {rows}); integrity check ok")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "console": _cmd_console,
    "run": _cmd_run,
    "try": _cmd_try,
    "exercise": _cmd_exercise,
    "lessons": _cmd_lessons,
    "discord": _cmd_discord,
    "runner-node": _cmd_runner_node,
    "db": _cmd_db,
}


def choose_command(command: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The command to run: the one given, else `discord` when DISCORD_TOKEN is set, else `console`."""
    if command:
        return command
    return "discord" if discord_token(environ) else "console"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load(args)
    except ConfigError as exc:
        print(f"corobot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    command = choose_command(args.command)
    configure_logging(settings.log_level, settings.data_dir / CONSOLE_LOG_NAME if command == "console" else None)
    log.debug("command %s, lessons %s, locale %s", command, settings.lessons_dir, settings.locale)
    try:
        return COMMANDS[command](args, settings)
    except CorobotError as exc:
        print(f"corobot: {failure_text(exc, settings.locale)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
