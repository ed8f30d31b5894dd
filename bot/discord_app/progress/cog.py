"""/progress (your own numbers, privately: a card image with its text version) and /leaderboard (quiz points
this week, month or ever)."""

from __future__ import annotations

import asyncio
import io

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.storage import Period, Storage
from bot.discord_app.context import NO_PINGS, Interaction, Services
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.progress.card import CardCache, render
from bot.discord_app.progress.texts import card_data, leaderboard_text, learning_text, progress_text

PERIODS: dict[str, Period] = {"week": "week", "month": "month", "all": "all"}
CHOICES = [
    app_commands.Choice(name=ls("progress.period.week"), value="week"),
    app_commands.Choice(name=ls("progress.period.month"), value="month"),
    app_commands.Choice(name=ls("progress.period.all"), value="all"),
]
BOARD_SIZE = 10
ALT_TEXT = 1024  # characters Discord keeps of an attachment's description
CARD_FILE = "corobot-progress.png"


class ProgressCog(Feature, name="Progress"):
    def __init__(self, bot: commands.Bot, services: Services, storage: Storage) -> None:
        super().__init__(bot, services)
        self.storage = storage
        self.cards = CardCache()

    @app_commands.command(name=ls("cmd.progress"), description=ls("cmd.progress.desc"))
    async def progress(self, interaction: Interaction) -> None:
        guild, user, locale = interaction.guild_id or 0, interaction.user.id, lesson_locale(interaction.locale)
        text = progress_text(await self.storage.progress(guild, user), locale)
        learning = self.services.learning
        if learning is None:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        summary = await learning.summary(guild, user)
        about = learning_text(summary, locale)
        data = card_data(summary, learning.clock(), locale)
        png = self.cards.get(data)
        if png is None:
            png = await asyncio.to_thread(render, data)  # CPU work: off the event loop
            self.cards.put(data, png)
        card = discord.File(io.BytesIO(png), filename=CARD_FILE, description=clip(about, ALT_TEXT))
        content = clip(f"{text}\n{about}", MESSAGE_LIMIT)
        await interaction.followup.send(content, file=card, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name=ls("cmd.leaderboard"), description=ls("cmd.leaderboard.desc"))
    @app_commands.rename(period=ls("opt.period"))
    @app_commands.describe(period=ls("opt.period.desc"))
    @app_commands.choices(period=CHOICES)
    async def leaderboard(self, interaction: Interaction, period: app_commands.Choice[str] | None = None) -> None:
        key = PERIODS.get(period.value if period else "week", "week")
        rows = await self.storage.leaderboard(interaction.guild_id or 0, key, BOARD_SIZE)
        text = leaderboard_text(rows, key, lesson_locale(interaction.locale))
        await interaction.response.send_message(text, allowed_mentions=NO_PINGS)
