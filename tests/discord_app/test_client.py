"""Every extension loads into a real (unconnected) Bot: command names unique in every language, each feature's
cog and components registered, the extensions unload and load again cleanly."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import discord

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.discord_app.client import EXTENSIONS, CorobotBot
from tests.discord_app.env import COMMANDS

COGS = ["Admin", "Fallback", "Lessons", "Progress", "Quiz", "Review", "Runs", "Study"]


async def unconnected_bot(tmp_path: Path, monkeypatch) -> CorobotBot:
    """A bot whose extensions are loaded (`setup_hook`) without a connection; nothing is synced."""
    settings = Settings(lessons_dir=tmp_path, data_dir=tmp_path / "data")
    runner = object()  # a neighbour: never used while only loading the extensions
    bot = CorobotBot(settings, Catalog(tmp_path), runner)
    assert not bot.cogs

    async def no_sync(**_: object) -> bool:  # the emulator tests cover syncing; here there is no connection
        return False

    monkeypatch.setattr(bot, "sync_commands", no_sync)
    await bot.setup_hook()
    return bot


def duplicates(names: list[str]) -> list[str]:
    return [name for name, count in Counter(names).items() if count > 1]


async def test_every_extension_loads_and_names_are_unique_in_every_language(tmp_path, monkeypatch):
    bot = await unconnected_bot(tmp_path, monkeypatch)
    assert sorted(bot.extensions) == sorted(EXTENSIONS)
    assert sorted(bot.cogs) == COGS
    names = [c.name for c in bot.tree.get_commands()]
    assert sorted(names) == COMMANDS and not duplicates(names)
    payload = await bot.command_payload(None)
    for locale in ("zh-CN", "zh-TW"):
        translated = [c["name_localizations"][locale] for c in payload]
        assert len(translated) == len(payload) and not duplicates(translated), (locale, translated)
        for command in payload:
            options = [o.get("name_localizations", {}).get(locale, o["name"]) for o in command.get("options", [])]
            assert not duplicates(options), (command["name"], locale, options)
    by_name = {c["name"]: c for c in payload}
    assert by_name["run"]["name_localizations"]["zh-CN"] == "运行"
    assert by_name["run"]["description_localizations"]["zh-CN"].startswith("运行课程示例")
    option = by_name["run"]["options"][0]
    assert option["name"] == "lesson" and option["name_localizations"]["zh-CN"] == "课程"
    assert all(len(c["description"]) <= 100 for c in payload)
    components = bot.services.components
    for custom_id in ("cb:run:a:hello:hello", "cq:c:q1a2b3c4:0:1", "cs:j:s0123456789", "cqm:q1:0:42"):
        assert components.claims(custom_id), custom_id
    assert not components.claims("cb:run:x:hello") and not components.claims("legacy:button")
    await bot.close()


async def test_extensions_unload_and_load_again(tmp_path, monkeypatch):
    bot = await unconnected_bot(tmp_path, monkeypatch)
    for name in reversed(EXTENSIONS):
        await bot.unload_extension(name)
    assert not bot.cogs and not bot.tree.get_commands()
    assert not bot.services.components.claims("cq:c:q1a2b3c4:0:1")
    for name in EXTENSIONS:
        await bot.load_extension(name)
    assert sorted(c.name for c in bot.tree.get_commands()) == COMMANDS
    assert bot.services.components.claims("cq:c:q1a2b3c4:0:1")
    await bot.close()
    assert not bot.extensions


async def test_allowed_mentions_none_on_the_client(tmp_path):
    bot = CorobotBot(Settings(lessons_dir=tmp_path, data_dir=tmp_path / "data"), Catalog(tmp_path), object())
    mentions = bot.allowed_mentions
    assert mentions is not None
    assert mentions.to_dict() == discord.AllowedMentions.none().to_dict()
    await bot.close()
