"""/study start: a study session for a group, led by the caller (the host)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs._common import Interaction, bot_of, lesson_autocomplete
from bot.discord_app.i18n import lesson_locale, ls

log = logging.getLogger(__name__)


class StudyCog(commands.Cog):
    study = app_commands.Group(name=ls("cmd.study"), description=ls("cmd.study.desc"), guild_only=True)

    @study.command(name=ls("cmd.study.start"), description=ls("cmd.study.start.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), thread=ls("opt.thread"), auto_advance=ls("opt.auto_advance"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"), thread=ls("opt.thread.desc"),
                           auto_advance=ls("opt.auto_advance.desc"))  # fmt: skip
    @app_commands.autocomplete(lesson=lesson_autocomplete)
    async def start(
        self,
        interaction: Interaction,
        lesson: str,
        thread: bool = True,
        auto_advance: app_commands.Range[int, 10, 3600] | None = None,
    ) -> None:
        await bot_of(interaction).studies.start(
            interaction, lesson.strip(), thread=thread, auto_advance=float(auto_advance) if auto_advance else None,
            locale=lesson_locale(interaction.locale),
        )  # fmt: skip
