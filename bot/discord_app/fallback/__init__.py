"""Fallback: a polite private answer to buttons and forms no feature claims (stale or garbled custom ids),
told apart by the custom-id templates the other features registered (`context.Components`).

    cog.py    the listener
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.fallback.cog import FallbackCog


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(FallbackCog(bot, services_of(bot)))
