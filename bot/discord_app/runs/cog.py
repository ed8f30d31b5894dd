"""/run (run an example and stream it) and /stop (cancel your own running or queued example)."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.discord_app.autocomplete import example_autocomplete, lesson_autocomplete, python_autocomplete
from bot.discord_app.context import Interaction, Services
from bot.discord_app.errors import send_ephemeral
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import ls, t
from bot.discord_app.runs.components import ITEMS
from bot.discord_app.runs.service import RunService


class RunsCog(Feature, name="Runs"):
    items = ITEMS

    def __init__(self, bot: commands.Bot, services: Services, runs: RunService) -> None:
        super().__init__(bot, services)
        self.runs = runs

    async def cog_load(self) -> None:
        await super().cog_load()
        self.services.provide(self.runs)

    async def cog_unload(self) -> None:
        """Refuse new runs, stop the running ones; their messages say the bot is restarting."""
        await self.runs.shutdown(grace=self.services.shutdown_grace)
        self.services.withdraw(RunService)
        await super().cog_unload()

    @app_commands.command(name=ls("cmd.run"), description=ls("cmd.run.desc"))
    @app_commands.rename(lesson=ls("opt.lesson"), example=ls("opt.example"), python=ls("opt.python"))
    @app_commands.describe(
        lesson=ls("opt.lesson.desc"), example=ls("opt.example.desc"), python=ls("opt.python.desc")
    )
    @app_commands.autocomplete(
        lesson=lesson_autocomplete, example=example_autocomplete, python=python_autocomplete
    )
    async def run(
        self, interaction: Interaction, lesson: str, example: str | None = None, python: str | None = None
    ) -> None:
        chosen = python.strip()[:40] if python and python.strip() else None
        await self.runs.start(interaction, lesson.strip(), example.strip() if example else None, chosen)

    @app_commands.command(name=ls("cmd.stop"), description=ls("cmd.stop.desc"))
    async def stop(self, interaction: Interaction) -> None:
        count = self.runs.stop_owner(interaction.user.id)
        text = t(interaction.locale, "run.stopped", count=count) if count else t(interaction.locale, "run.none_to_stop")
        await send_ephemeral(interaction, text)
