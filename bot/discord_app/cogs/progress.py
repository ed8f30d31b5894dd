"""/progress (your own numbers, private) and /leaderboard (quiz points this week, month or ever)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs._common import NONE, Interaction, bot_of
from bot.discord_app.i18n import lesson_locale, ls
from bot.discord_app.quiz_render import leaderboard_text, progress_text

log = logging.getLogger(__name__)

PERIODS = [
    app_commands.Choice(name=ls("board.period.week"), value="week"),
    app_commands.Choice(name=ls("board.period.month"), value="month"),
    app_commands.Choice(name=ls("board.period.all"), value="all"),
]


class ProgressCog(commands.Cog):
    @app_commands.command(name=ls("cmd.progress"), description=ls("cmd.progress.desc"))
    async def progress(self, interaction: Interaction) -> None:
        storage = bot_of(interaction).storage
        found = await storage.progress(interaction.guild_id or 0, interaction.user.id)
        text = progress_text(found, lesson_locale(interaction.locale))
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name=ls("cmd.leaderboard"), description=ls("cmd.leaderboard.desc"))
    @app_commands.rename(period=ls("opt.period"))
    @app_commands.describe(period=ls("opt.period.desc"))
    @app_commands.choices(period=PERIODS)
    async def leaderboard(self, interaction: Interaction, period: app_commands.Choice[str] | None = None) -> None:
        key = period.value if period else "week"
        storage = bot_of(interaction).storage
        rows = await storage.leaderboard(interaction.guild_id or 0, key, 10)  # type: ignore[arg-type]
        text = leaderboard_text(rows, key, lesson_locale(interaction.locale))
        await interaction.response.send_message(text, allowed_mentions=NONE)
