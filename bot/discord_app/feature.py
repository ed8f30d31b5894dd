"""`Feature`: the base of every feature's cog.

A feature is a discord.py extension (`bot/discord_app/<feature>/__init__.py` has `async def setup(bot)`): its
cog is built there with the feature's service and added to the bot.  When the cog loads it registers the
feature's stateless components (`items`) and, in the subclass, provides its service and restores saved
state; when it unloads (the bot closes, or the extension is unloaded) it removes them and stops its work.
"""

from __future__ import annotations

from typing import Any, ClassVar

import discord
from discord.ext import commands

from bot.discord_app.context import Services


class Feature(commands.Cog):
    items: ClassVar[tuple[type[discord.ui.DynamicItem[Any]], ...]] = ()

    def __init__(self, bot: commands.Bot, services: Services) -> None:
        self.bot = bot
        self.services = services

    async def cog_load(self) -> None:
        self.services.components.add(self.bot, *self.items)

    async def cog_unload(self) -> None:
        self.services.components.remove(self.bot, *self.items)
