"""/lessons (the catalogue, paginated) and /lesson (one lesson's sections and examples, with Run buttons)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs._common import NONE, Interaction, bot_of, lesson_autocomplete, tag_autocomplete
from bot.discord_app.i18n import lesson_locale, ls
from bot.discord_app.views.buttons import catalogue_message, lesson_message

log = logging.getLogger(__name__)

LEVELS = [
    app_commands.Choice(name=ls("level.beginner"), value="beginner"),
    app_commands.Choice(name=ls("level.intermediate"), value="intermediate"),
    app_commands.Choice(name=ls("level.advanced"), value="advanced"),
]


class LessonsCog(commands.Cog):
    @app_commands.command(name=ls("cmd.lessons"), description=ls("cmd.lessons.desc"))
    @app_commands.rename(tag=ls("opt.tag"), level=ls("opt.level"))
    @app_commands.describe(tag=ls("opt.tag.desc"), level=ls("opt.level.desc"))
    @app_commands.choices(level=LEVELS)
    @app_commands.autocomplete(tag=tag_autocomplete)
    async def lessons(
        self, interaction: Interaction, tag: str | None = None, level: app_commands.Choice[str] | None = None
    ) -> None:
        catalog = bot_of(interaction).catalog
        content, view = catalogue_message(
            catalog.lessons(), 0, lesson_locale(interaction.locale), tag=tag, level=level.value if level else None
        )
        await interaction.response.send_message(content, view=view, allowed_mentions=NONE)

    @app_commands.command(name=ls("cmd.lesson"), description=ls("cmd.lesson.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"))
    @app_commands.autocomplete(lesson=lesson_autocomplete)
    async def lesson(self, interaction: Interaction, lesson: str) -> None:
        found = bot_of(interaction).catalog.get(lesson.strip())
        content, view = lesson_message(found, 0, lesson_locale(interaction.locale))
        await interaction.response.send_message(content, view=view, allowed_mentions=NONE)
