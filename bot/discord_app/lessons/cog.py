"""/lessons (the catalogue, paginated) and /lesson (one lesson's sections and examples, with Run buttons)."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.core.catalog import Catalog
from bot.discord_app.autocomplete import lesson_autocomplete, tag_autocomplete
from bot.discord_app.context import NO_PINGS, Interaction, Services
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls
from bot.discord_app.lessons.components import ITEMS, catalogue_message, lesson_message

LEVELS = [
    app_commands.Choice(name=ls("lessons.level.beginner"), value="beginner"),
    app_commands.Choice(name=ls("lessons.level.intermediate"), value="intermediate"),
    app_commands.Choice(name=ls("lessons.level.advanced"), value="advanced"),
]


class LessonsCog(Feature, name="Lessons"):
    items = ITEMS

    def __init__(self, bot: commands.Bot, services: Services, catalog: Catalog) -> None:
        super().__init__(bot, services)
        self.catalog = catalog

    @app_commands.command(name=ls("cmd.lessons"), description=ls("cmd.lessons.desc"))
    @app_commands.rename(tag=ls("opt.tag"), level=ls("opt.level"))
    @app_commands.describe(tag=ls("opt.tag.desc"), level=ls("opt.level.desc"))
    @app_commands.choices(level=LEVELS)
    @app_commands.autocomplete(tag=tag_autocomplete)
    async def lessons(
        self, interaction: Interaction, tag: str | None = None, level: app_commands.Choice[str] | None = None
    ) -> None:
        locale = lesson_locale(interaction.locale)
        wanted = level.value if level else None
        content, view = catalogue_message(self.catalog.lessons(), 0, locale, tag=tag, level=wanted)
        await interaction.response.send_message(content, view=view, allowed_mentions=NO_PINGS)

    @app_commands.command(name=ls("cmd.lesson"), description=ls("cmd.lesson.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"))
    @app_commands.autocomplete(lesson=lesson_autocomplete)
    async def lesson(self, interaction: Interaction, lesson: str) -> None:
        found = self.catalog.get(lesson.strip())
        content, view = lesson_message(found, 0, lesson_locale(interaction.locale))
        await interaction.response.send_message(content, view=view, allowed_mentions=NO_PINGS)
