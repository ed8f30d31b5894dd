"""Runs: `/run`, `/stop`, and the Run / Stop / Run again buttons.

cog.py         the commands; loads and stops the service
service.py     admission, rate limit, one streaming task per run, finished runs recorded
stream.py      one run -> one message, edited at most once per `edit_interval`
message.py     the message's text (pure): timed lines, status, expected vs actual, timeline
components.py  the buttons (stateless custom ids)
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.context import services_of
from bot.discord_app.runs.cog import RunsCog
from bot.discord_app.runs.components import run_controls
from bot.discord_app.runs.service import RunService


async def setup(bot: commands.Bot) -> None:
    services = services_of(bot)
    runs = RunService(services.catalog, services.runner, services.settings.discord, services.storage, run_controls)
    await bot.add_cog(RunsCog(bot, services, runs))
