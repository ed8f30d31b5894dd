"""Several bot processes, each with its gateway shards (here: two sharded bots in one test process, over one
emulator and one database): each serves only its guilds, syncs commands only from shard 0, and restores after a
restart only the quizzes of its own guilds."""

from __future__ import annotations

import contextlib
import textwrap
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.runner import Runner, RunnerLimits
from bot.discord_app.client import CorobotBot, ShardedCorobotBot, make_bot
from bot.discord_app.context import QuizTiming, Services
from bot.storage.sqlite import SqliteStorage
from tests.discord_app.env import QUIZ_LESSON, settings_for, write_lessons
from tests.fakediscord import FakeDiscord, running

pytestmark = pytest.mark.timeout(90)


def test_owns_guild_follows_discords_rule(tmp_path: Path) -> None:
    settings = Settings(discord={"shard_count": 3, "shard_ids": [1, 2]})
    services = Services(settings, Catalog(tmp_path), Runner(RunnerLimits()), SqliteStorage(Path(":memory:")))
    assert [services.owns_guild(shard << 22) for shard in range(6)] == [False, True, True, False, True, True]
    assert not services.owns_guild(0)  # direct messages: shard 0's
    assert Services(Settings(), services.catalog, services.runner, services.storage).owns_guild(12345 << 22)


async def test_each_process_keeps_its_guilds_quizzes(tmp_path: Path) -> None:
    write_lessons(tmp_path / "lessons")
    (tmp_path / "lessons" / "tasks.yaml").write_text(textwrap.dedent(QUIZ_LESSON), encoding="utf-8")
    async with FakeDiscord(shards=2) as fd, Runner(Settings().runner.limits()) as runner:
        other = fd.add_guild("second guild", shard=1 - fd.shard_of(fd.guild))
        catalog = Catalog(tmp_path / "lessons")
        assert catalog.load().ok
        database = tmp_path / "shared.sqlite3"

        @contextlib.asynccontextmanager
        async def bots():
            async with contextlib.AsyncExitStack() as stack:
                started: dict[int, CorobotBot] = {}
                for shard in (0, 1):
                    shards = {"dev_guild_id": None, "shard_count": 2, "shard_ids": [shard]}
                    settings = settings_for(tmp_path, fd, discord=shards)
                    settings.data_dir = tmp_path / f"data-{shard}"
                    storage = SqliteStorage(database)
                    await storage.open()
                    stack.push_async_callback(storage.close)
                    options = {"storage": storage, "quiz_timing": QuizTiming(60.0, 0.2), "guild_ready_timeout": 0.05}
                    bot = make_bot(settings, catalog, runner, **options)
                    assert isinstance(bot, ShardedCorobotBot)
                    await stack.enter_async_context(running(bot, fd))
                    started[shard] = bot
                yield started

        alice = fd.add_user("alice")
        async with bots() as first:
            home, away = first[fd.shard_of(fd.guild)], first[fd.shard_of(other.guild_id)]
            assert [g.id for g in home.guilds] == [fd.guild] and [g.id for g in away.guilds] == [other.guild_id]
            assert first[0].synced is True and first[1].synced is None  # only shard 0's process syncs commands
            start = await fd.slash(alice, "quiz", {"lesson": "tasks", "count": 1}, channel=other.id)
            assert start.original is not None and "Quiz: Two tasks" in start.original.content

            def asked() -> bool:
                return any("question 1/" in m.content for m in fd.messages(other.id))

            await fd.wait_until(asked, 20)  # the quiz is under way (and saved) before both processes stop
            assert len(away.get_cog("Quiz").quizzes.live) == 1 and not home.get_cog("Quiz").quizzes.live
        async with bots() as second:  # a restart of both processes over the same database
            home, away = second[fd.shard_of(fd.guild)], second[fd.shard_of(other.guild_id)]
            assert len(away.get_cog("Quiz").quizzes.live) == 1, "the quiz came back in its guild's process"
            assert not home.get_cog("Quiz").quizzes.live, "and only there"
