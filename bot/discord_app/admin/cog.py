"""/help (what corobot is) and /reload (admins: reload lessons from disk and report what failed)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.core.catalog import Catalog
from bot.discord_app.context import NO_PINGS, Interaction, Services, services_of
from bot.discord_app.errors import NotAdmin
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls, t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe
from bot.discord_app.permissions import is_admin

log = logging.getLogger(__name__)

ERRORS_SHOWN = 1400  # characters of load errors quoted in the reply


def require_admin(interaction: Interaction) -> bool:
    """Manage Server, or one of `settings.discord.admin_role_ids`; raises `NotAdmin` otherwise."""
    if is_admin(interaction, services_of(interaction.client).settings.discord.admin_role_ids):
        return True
    raise NotAdmin()


def reload_text(catalog: Catalog, locale: str) -> str:
    """Reload the lessons from disk and say what changed and which files are broken."""
    report = catalog.refresh()
    out: list[str] = []
    if report.loaded:
        ids = ", ".join(f"`{x}`" for x in report.loaded)
        out.append(t(locale, "admin.reloaded", count=len(report.loaded), ids=ids))
    if report.removed:
        out.append(t(locale, "admin.removed", ids=", ".join(f"`{x}`" for x in report.removed)))
    if not report.loaded and not report.removed:
        out.append(t(locale, "admin.unchanged"))
    out.append(t(locale, "admin.available", count=len(catalog.lessons())))
    if catalog.errors:
        out.append(t(locale, "admin.file_problems", count=len(catalog.errors)))
        out.append(code_block(clip(code_safe("\n".join(str(e) for e in catalog.errors)), ERRORS_SHOWN)))
    return clip("\n".join(out), MESSAGE_LIMIT)


class AdminCog(Feature, name="Admin"):
    def __init__(self, bot: commands.Bot, services: Services, catalog: Catalog) -> None:
        super().__init__(bot, services)
        self.catalog = catalog

    @app_commands.command(name=ls("cmd.help"), description=ls("cmd.help.desc"))
    async def help(self, interaction: Interaction) -> None:
        await interaction.response.send_message(
            t(interaction.locale, "admin.help"), ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name=ls("cmd.reload"), description=ls("cmd.reload.desc"))
    @app_commands.guild_only()
    @app_commands.check(require_admin)
    async def reload(self, interaction: Interaction) -> None:
        text = reload_text(self.catalog, lesson_locale(interaction.locale))
        counts = (len(self.catalog.lessons()), len(self.catalog.errors))
        log.info("reload by %s: %d lessons, %d errors", interaction.user.id, *counts)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
