"""A real corobot Discord bot (real discord.py, real Runner, real Catalog) against the fakediscord emulator."""

from __future__ import annotations

import contextlib
import textwrap
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.config import DiscordSettings, RateLimit, RunnerSettings, Settings
from bot.core.catalog import Catalog
from bot.core.runner import Runner
from bot.discord_app.client import CorobotBot
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
COMMANDS = ["help", "leaderboard", "lesson", "lessons", "progress", "quiz", "reload", "run", "stop", "study"]


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
        await self.fd.wait_until(lambda: run_message(ix) is not None and is_final(run_message(ix)), limit)
        msg = run_message(ix)
        assert msg is not None
        return msg


def run_message(ix: FakeInteraction) -> FakeMessage | None:
    return ix.original


def is_final(msg: FakeMessage | None) -> bool:
    return msg is not None and any(c.startswith("cb:run:a:") for c in msg.custom_ids())


def settings_for(tmp_path: Path, fd: FakeDiscord, **overrides: Any) -> Settings:
    runner = RunnerSettings(
        **{"max_concurrent": 4, "per_user": 1, "timeout_default": 10, **overrides.pop("runner", {})}
    )
    discord_opts: dict[str, Any] = {
        "dev_guild_id": fd.guild,
        "edit_interval": 1.0,
        "rate_limit": RateLimit(runs=50, per_seconds=60),
        "api_base_url": fd.api_base,
        "gateway_url": fd.gateway_url,
        **overrides.pop("discord", {}),
    }
    return Settings(
        lessons_dir=tmp_path / "lessons", data_dir=tmp_path / "data", runner=runner,
        discord=DiscordSettings(**discord_opts), **overrides,
    )  # fmt: skip


@pytest.fixture
def make_env(tmp_path: Path) -> Callable[..., contextlib.AbstractAsyncContextManager[Env]]:
    @contextlib.asynccontextmanager
    async def factory(
        *, extra_lessons: int = 0, fd_options: dict[str, Any] | None = None, **overrides: Any
    ) -> AsyncIterator[Env]:
        write_lessons(tmp_path / "lessons", extra_lessons)
        async with FakeDiscord(**(fd_options or {})) as fd:
            settings = settings_for(tmp_path, fd, **overrides)
            catalog = Catalog(settings.lessons_dir)
            report = catalog.load()
            assert report.ok, report.errors
            async with Runner(settings.runner.limits()) as runner:
                bot = CorobotBot(settings, catalog, runner, guild_ready_timeout=0.05)
                async with running(bot, fd):
                    yield Env(fd, bot, catalog, runner, settings, settings.lessons_dir)

    return factory
