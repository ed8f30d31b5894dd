"""Shared set-up for the quiz / study / progress tests: the emulator, a real Runner, a real SQLite file, and a
bot that can be stopped and started again over the same database (a restart).  No tests in this module."""

from __future__ import annotations

import contextlib
import re
import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.runner import Runner
from bot.discord_app.client import CorobotBot
from bot.discord_app.quizzes import QuizTiming
from bot.storage.sqlite import SqliteStorage
from tests.discord_app.conftest import settings_for, write_lessons
from tests.fakediscord import FakeDiscord, FakeMessage, running

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
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    async def start_bot(self) -> CorobotBot:
        """A new bot instance (a new process, as far as the bot knows) over the same database and emulator."""
        self.storage = SqliteStorage(self.db_path)
        await self.storage.open()
        self.bot = CorobotBot(self.settings, self.catalog, self.runner, storage=self.storage,
                              quiz_timing=self.timing, guild_ready_timeout=0.05)  # fmt: skip
        self._stack = contextlib.AsyncExitStack()
        await self._stack.enter_async_context(running(self.bot, self.fd))
        return self.bot

    async def stop_bot(self) -> None:
        await self._stack.aclose()
        if self.storage is not None:
            await self.storage.close()
        self.bot = None

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


@pytest.fixture
def quiz_env(tmp_path: Path) -> Callable[..., contextlib.AbstractAsyncContextManager[QuizEnv]]:
    @contextlib.asynccontextmanager
    async def factory(*, window: float = 2.0, gap: float = 0.2, **overrides: Any) -> AsyncIterator[QuizEnv]:
        write_lessons(tmp_path / "lessons")
        (tmp_path / "lessons" / "tasks.yaml").write_text(textwrap.dedent(QUIZ_LESSON), encoding="utf-8")
        async with FakeDiscord() as fd:
            settings = settings_for(tmp_path, fd, **overrides)
            catalog = Catalog(settings.lessons_dir)
            report = catalog.load()
            assert report.ok, report.errors
            async with Runner(settings.runner.limits()) as runner:
                env = QuizEnv(fd, runner, catalog, settings, settings.data_dir / "corobot.sqlite3",
                              QuizTiming(question_timeout=window, gap=gap))  # fmt: skip
                await env.start_bot()
                try:
                    yield env
                finally:
                    if env.bot is not None:
                        await env.stop_bot()

    return factory
