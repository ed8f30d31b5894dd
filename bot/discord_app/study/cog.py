"""/study start: a study session for a group, led by the caller (the host)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.autocomplete import lesson_autocomplete
from bot.discord_app.context import Interaction, Services
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls
from bot.discord_app.study.components import ITEMS
from bot.discord_app.study.service import StudyService

log = logging.getLogger(__name__)


class StudyCog(Feature, name="Study"):
    items = ITEMS

    study = app_commands.Group(name=ls("cmd.study"), description=ls("cmd.study.desc"), guild_only=True)

    def __init__(self, bot: commands.Bot, services: Services, studies: StudyService) -> None:
        super().__init__(bot, services)
        self.studies = studies

    async def cog_load(self) -> None:
        """Register the card buttons, provide the service, resume the sessions saved before a stop."""
        await super().cog_load()
        self.services.provide(self.studies)
        resumed = await self.studies.restore()
        if resumed:
            log.info("resumed %d study session(s) from the database", resumed)

    async def cog_unload(self) -> None:
        await self.studies.shutdown()
        self.services.withdraw(StudyService)
        await super().cog_unload()

    @study.command(name=ls("cmd.study.start"), description=ls("cmd.study.start.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), thread=ls("opt.thread"), auto_advance=ls("opt.auto_advance"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"), thread=ls("opt.thread.desc"))
    @app_commands.describe(auto_advance=ls("opt.auto_advance.desc"))
    @app_commands.autocomplete(lesson=lesson_autocomplete)
    async def start(
        self,
        interaction: Interaction,
        lesson: str,
        thread: bool = True,
        auto_advance: app_commands.Range[int, 10, 3600] | None = None,
    ) -> None:
        every = float(auto_advance) if auto_advance else None
        locale = lesson_locale(interaction.locale)
        await self.studies.start(interaction, lesson.strip(), thread=thread, auto_advance=every, locale=locale)
