"""Admin and help: `/help` (what corobot does) and `/reload` (Manage Server or an admin role: reload the lessons
and report broken files with their line).

    cog.py    the commands and the admin check (`permissions.is_admin` says who counts as an admin)
"""

from __future__ import annotations

from discord.ext import commands

from bot.discord_app.admin.cog import AdminCog
from bot.discord_app.context import services_of


async def setup(bot: commands.Bot) -> None:
    services = services_of(bot)
    await bot.add_cog(AdminCog(bot, services, services.catalog))
