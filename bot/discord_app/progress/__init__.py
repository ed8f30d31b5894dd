"""Progress: `/progress` (a member's lessons, runs and quiz accuracy, privately) and `/leaderboard`.

cog.py    the commands (they read what runs, quizzes and sessions stored)
texts.py  the replies' text (pure)
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.progress.cog import ProgressCog


async def setup(bot: commands.Bot) -> None:
    services = services_of(bot)
    await bot.add_cog(ProgressCog(bot, services, services.storage))
