"""Every cog loads into a real (unconnected) Bot; names unique; commands translated to zh-CN."""

from __future__ import annotations

from pathlib import Path

import discord

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.discord_app.client import CorobotBot
from tests.discord_app.conftest import COMMANDS


async def _bot(tmp_path: Path) -> CorobotBot:
    settings = Settings(lessons_dir=tmp_path, data_dir=tmp_path / "data")
    runner = object()  # a neighbour: never used while only building the command tree
    bot = CorobotBot(settings, Catalog(tmp_path), runner)  # type: ignore[arg-type]
    for cog in ("LessonsCog", "RunsCog", "AdminCog"):
        assert bot.get_cog(cog) is None
    return bot


async def test_commands_load_unique_and_translated(tmp_path, monkeypatch):
    bot = await _bot(tmp_path)

    async def no_sync(**_: object) -> bool:  # the emulator tests cover syncing; here there is no connection
        return False

    monkeypatch.setattr(bot, "sync_commands", no_sync)
    await bot.setup_hook()
    names = [c.name for c in bot.tree.get_commands()]
    assert sorted(names) == COMMANDS
    assert len(names) == len(set(names))
    payload = {c["name"]: c for c in await bot.command_payload(None)}
    assert payload["run"]["name_localizations"]["zh-CN"] == "运行"
    assert payload["run"]["description_localizations"]["zh-CN"].startswith("运行课程示例")
    option = payload["run"]["options"][0]
    assert option["name"] == "lesson" and option["name_localizations"]["zh-CN"] == "课程"
    assert all(len(c["description"]) <= 100 for c in payload.values())
    await bot.close()


async def test_allowed_mentions_none_on_the_client(tmp_path):
    bot = await _bot(tmp_path)
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert mentions.to_dict() == discord.AllowedMentions.none().to_dict()
    await bot.close()
