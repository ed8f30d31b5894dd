"""The real corobot Discord bot (real discord.py, real Runner, real Catalog, a real SQLite file) against the
fakediscord emulator: the start-up the Discord tests (through `conftest.py`'s fixtures) and the benchmarks share.

    async with bot_env(tmp_path) as env: ...           # a bot over the test lessons
    async with quiz_env(tmp_path, window=2.0) as env:  # ... plus a quiz lesson, a database, restartable
"""

from __future__ import annotations

import contextlib
import re
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.config import DiscordSettings, RateLimit, RunnerSettings, Settings
from bot.core.catalog import Catalog
from bot.core.review.service import Learning
from bot.core.runner import Runner
from bot.discord_app.client import CorobotBot
from bot.discord_app.context import QuizTiming
from bot.storage.sqlite import SqliteStorage
from tests.fakediscord import FakeDiscord, FakeInteraction, FakeMessage, running

LESSONS: dict[str, str] = {
    "hello.yaml": """
        id: hello
        title: {en: Hello coroutines, zh-CN: 你好协程}
        summary: {en: Your first coroutine., zh-CN: 你的第一个协程。}
        level: beginner
        tags: [basics]
        sections:
          - title: {en: Defining one, zh-CN: 定义协程}
            body: {en: Use async def., zh-CN: 使用 async def 定义。}
          - title: {en: Running one, zh-CN: 运行协程}
            body: {en: Use asyncio.run., zh-CN: 使用 asyncio.run 运行。}
        examples:
          - id: hello
            title: {en: Hello world, zh-CN: 你好世界}
            code: |
              import asyncio
              async def main():
                  print("Hello")
                  await asyncio.sleep(0.2)
                  print("World")
              asyncio.run(main())
            expect:
              output: [Hello, World]
              elapsed: {seconds: 0.2, tolerance: 2.0}
              note: {en: one sleep of 0.2 s, zh-CN: 一次 0.2 秒的睡眠}
          - id: boom
            code: |
              raise ValueError("boom")
    """,
    "stream.yaml": """
        id: stream
        title: Streaming output
        level: intermediate
        tags: [output]
        examples:
          - id: hundred
            timeout: 30
            code: |
              import asyncio
              async def main():
                  for i in range(100):
                      print(f"line {i:03d}")
                      await asyncio.sleep(0.1)
              asyncio.run(main())
          - id: slow
            timeout: 30
            code: |
              import asyncio
              async def main():
                  print("started")
                  for i in range(60):
                      await asyncio.sleep(0.5)
                      print(f"tick {i}")
              asyncio.run(main())
          - id: short
            code: |
              import asyncio
              async def main():
                  await asyncio.sleep(0.3)
                  print("short done")
              asyncio.run(main())
          - id: mid
            code: |
              import asyncio
              async def main():
                  for i in range(20):
                      print(f"mid {i:02d}")
                      await asyncio.sleep(0.1)
              asyncio.run(main())
          - id: unsafe
            code: |
              print("@everyone hello <@123456789012345678>")
              print("``` closing the block")
              print("\\x1b[31mred\\x1b[0m and \\x1b]0;title\\x07")
              print("after")
    """,
}


# Every slash command the bot registers, sorted.
COMMANDS = [
    *("forget-me", "help", "leaderboard", "lesson", "lessons", "path", "progress", "quiz", "recap", "reload"),
    *("reminders", "review", "run", "stop", "study", "timezone"),
]

QUIZ_LESSON = """
    id: tasks
    title: {en: Two tasks, zh-CN: 两个任务}
    sections:
      - title: {en: Starting tasks, zh-CN: 启动任务}
        body: {en: create_task schedules a coroutine., zh-CN: create_task 调度协程。}
      - title: {en: Waiting, zh-CN: 等待}
        body: {en: await waits for it., zh-CN: await 等待它。}
    examples:
      - id: two
        code: |
          import asyncio
          async def main():
              print("Hello")
              await asyncio.sleep(0.3)
              print("World")
          asyncio.run(main())
    quiz:
      - id: pick
        type: choice
        prompt: {en: How long does it take?, zh-CN: 需要多久？}
        explanation: {en: One sleep of 0.3 s., zh-CN: 一次 0.3 秒的睡眠。}
        choices: ["0.3 s", "0.6 s", "1 s"]
        answer: "0.3 s"
        hints: [{text: {en: look at the sleep, zh-CN: 看 sleep}, cost: 3}]
        example: two
      - id: word
        type: text
        prompt: Which keyword waits for a coroutine?
        explanation: await suspends until the awaited thing is done.
        answers: [await]
      - id: order
        type: predict_output
        prompt: In which order are the lines printed?
        explanation: Hello, then the sleep, then World.
        answer: [Hello, World]
        example: two
"""


def write_lessons(root: Path, extra: int = 0) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in LESSONS.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    for i in range(extra):
        (root / f"filler-{i:02d}.yaml").write_text(
            f"id: filler-{i:02d}\ntitle: Filler {i:02d}\ntags: [filler]\n"
            "examples:\n  - id: only\n    code: print('filler')\n",
            encoding="utf-8",
        )


def is_final(msg: FakeMessage | None) -> bool:
    """A run message once its final edit (the Run again button) has landed."""
    return msg is not None and any(c.startswith("cb:run:a:") for c in msg.custom_ids())


def settings_for(tmp_path: Path, fd: FakeDiscord, **overrides: Any) -> Settings:
    # One interpreter unless a test asks for more (`runner={"pythons": "auto"}`): every worker costs start-up time.
    runner = RunnerSettings(
        **{"max_concurrent": 4, "per_user": 1, "timeout_default": 10, "pythons": [], **overrides.pop("runner", {})}
    )
    discord_opts: dict[str, Any] = {
        "dev_guild_id": fd.guild,
        "edit_interval": 1.0,
        "rate_limit": RateLimit(runs=50, per_seconds=60),
        "api_base_url": fd.api_base,
        "gateway_url": fd.gateway_url,
        **overrides.pop("discord", {}),
    }
    paths = {"lessons_dir": tmp_path / "lessons", "data_dir": tmp_path / "data"}
    return Settings(**paths, runner=runner, discord=DiscordSettings(**discord_opts), **overrides)


@dataclass
class Env:
    fd: FakeDiscord
    bot: CorobotBot
    catalog: Catalog
    runner: Runner
    settings: Settings
    lessons: Path

    async def wait_final(self, ix: FakeInteraction, limit: float = 30.0) -> FakeMessage:
        """The run message once its final edit (the Run again button) has landed."""
        await self.fd.wait_until(lambda: is_final(ix.original), limit)
        assert ix.original is not None
        return ix.original


@dataclass
class Parts:
    """What the bot is built from: the emulator, the settings pointing at it, the lessons, a real runner."""

    fd: FakeDiscord
    settings: Settings
    catalog: Catalog
    runner: Runner


@contextlib.asynccontextmanager
async def emulated(
    tmp_path: Path, *, extra_lessons: int = 0, fd_options: dict[str, Any] | None = None, **overrides: Any
) -> AsyncIterator[Parts]:
    """The emulator, settings for it (`overrides` go to `settings_for`), the test lessons loaded, a real runner;
    no bot yet."""
    write_lessons(tmp_path / "lessons", extra_lessons)
    async with FakeDiscord(**(fd_options or {})) as fd:
        settings = settings_for(tmp_path, fd, **overrides)
        catalog = Catalog(settings.lessons_dir)
        report = catalog.load()
        assert report.ok, report.errors
        async with Runner(settings.runner.limits()) as runner:
            yield Parts(fd, settings, catalog, runner)


@contextlib.asynccontextmanager
async def bot_env(tmp_path: Path, **options: Any) -> AsyncIterator[Env]:
    """A running bot over the test lessons (an in-memory database); `options` go to `emulated`."""
    async with emulated(tmp_path, **options) as parts:
        bot = CorobotBot(parts.settings, parts.catalog, parts.runner, guild_ready_timeout=0.05)
        async with running(bot, parts.fd):
            yield Env(parts.fd, bot, parts.catalog, parts.runner, parts.settings, parts.settings.lessons_dir)


@dataclass
class QuizEnv:
    fd: FakeDiscord
    runner: Runner
    catalog: Catalog
    settings: Settings
    db_path: Path
    timing: QuizTiming
    bot: CorobotBot | None = None
    storage: SqliteStorage | None = None
    clock: Callable[[], float] | None = None  # the review feature's clock (default: the real one)
    learning: Learning | None = None
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def start_bot(self) -> CorobotBot:
        """A new bot instance (a new process, as far as the bot knows) over the same database and emulator."""
        self.storage = SqliteStorage(self.db_path)
        await self.storage.open()
        review = self.settings.review.learning()
        self.learning = Learning(self.storage, self.catalog, review, clock=self.clock or time.time)
        self.bot = CorobotBot(
            self.settings,
            self.catalog,
            self.runner,
            storage=self.storage,
            quiz_timing=self.timing,
            learning=self.learning,
            guild_ready_timeout=0.05,
        )
        self._stack = contextlib.AsyncExitStack()
        await self._stack.enter_async_context(running(self.bot, self.fd))
        return self.bot

    async def stop_bot(self) -> None:
        await self._stack.aclose()
        if self.storage is not None:
            await self.storage.close()
        self.bot = None

    @property
    def quizzes(self) -> Any:
        """The running bot's quiz service (through its cog: the feature's modules are reloaded per bot)."""
        assert self.bot is not None
        return self.bot.get_cog("Quiz").quizzes

    @property
    def studies(self) -> Any:
        assert self.bot is not None
        return self.bot.get_cog("Study").studies

    def bot_messages(self, channel: int | None = None, *, text: str = "") -> list[FakeMessage]:
        return [
            m
            for m in self.fd.messages(channel)
            if m.author.id == self.fd.bot_user.id and not m.ephemeral and not m.deleted and text in m.content
        ]

    async def wait_message(self, text: str, channel: int | None = None, limit: float = 20.0) -> FakeMessage:
        await self.fd.wait_until(lambda: bool(self.bot_messages(channel, text=text)), limit)
        return self.bot_messages(channel, text=text)[-1]

    async def question(self, number: int, channel: int | None = None) -> FakeMessage:
        """The message of question `number`, while its answer controls are still on it."""

        def find() -> FakeMessage | None:
            for m in self.bot_messages(channel, text=f"question {number}/"):
                if any(c.startswith("cq:") for c in m.custom_ids()):
                    return m
            return None

        await self.fd.wait_until(lambda: find() is not None, 20.0)
        found = find()
        assert found is not None
        return found


def custom_id(message: FakeMessage, prefix: str) -> str:
    """The one custom_id on `message` that starts with `prefix` (e.g. 'cq:c:' + ... + ':0')."""
    found = [c for c in message.custom_ids() if re.match(prefix, c)]
    assert len(found) == 1, (prefix, message.custom_ids())
    return found[0]


@contextlib.asynccontextmanager
async def quiz_env(
    tmp_path: Path,
    *,
    window: float = 2.0,
    gap: float = 0.2,
    clock: Callable[[], float] | None = None,
    **overrides: Any,
) -> AsyncIterator[QuizEnv]:
    """A running bot over the test lessons plus the quiz lesson `tasks`, with a SQLite file it can restart over;
    every question's answer window is `window` seconds, and `gap` seconds separate a reveal from the next."""
    (tmp_path / "lessons").mkdir(parents=True, exist_ok=True)
    (tmp_path / "lessons" / "tasks.yaml").write_text(textwrap.dedent(QUIZ_LESSON), encoding="utf-8")
    async with emulated(tmp_path, **overrides) as parts:
        timing = QuizTiming(question_timeout=window, gap=gap)
        database = parts.settings.data_dir / "corobot.sqlite3"
        env = QuizEnv(parts.fd, parts.runner, parts.catalog, parts.settings, database, timing, clock=clock)
        await env.start_bot()
        try:
            yield env
        finally:
            if env.bot is not None:
                await env.stop_bot()
