"""/run (run an example and stream it) and /stop (cancel your own running or queued example)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs._common import Interaction, bot_of, example_autocomplete, lesson_autocomplete
from bot.discord_app.errors import send_ephemeral
from bot.discord_app.i18n import ls, t

log = logging.getLogger(__name__)


class RunsCog(commands.Cog):
    @app_commands.command(name=ls("cmd.run"), description=ls("cmd.run.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), example=ls("opt.example"))
    @app_commands.describe(lesson=ls("opt.lesson.desc"), example=ls("opt.example.desc"))
    @app_commands.autocomplete(lesson=lesson_autocomplete, example=example_autocomplete)
    async def run(self, interaction: Interaction, lesson: str, example: str | None = None) -> None:
        await bot_of(interaction).runs.start(interaction, lesson.strip(), example.strip() if example else None)

    @app_commands.command(name=ls("cmd.stop"), description=ls("cmd.stop.desc"))
    async def stop(self, interaction: Interaction) -> None:
        count = bot_of(interaction).runs.stop_owner(interaction.user.id)
        key = "run.stopped" if count else "run.nothing_to_stop"
        await send_ephemeral(interaction, t(interaction.locale, key, count=count))
