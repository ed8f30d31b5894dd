"""Lessons: `/lessons` (the catalogue) and `/lesson` (one lesson, page by page, with Run buttons).

cog.py         the commands
pages.py       the pages' text (pure)
components.py  the page buttons (stateless custom ids) and the messages that carry them
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.lessons.cog import LessonsCog


async def setup(bot: commands.Bot) -> None:
    services = services_of(bot)
    await bot.add_cog(LessonsCog(bot, services, services.catalog))
