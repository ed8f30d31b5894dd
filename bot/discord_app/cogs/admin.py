"""/help (what corobot is) and /reload (admins: reload lessons from disk and report what failed)."""

from __future__ import annotations

import logging

from discord import app_commands
from discord.ext import commands

from bot.discord_app.cogs._common import NONE, Interaction, bot_of
from bot.discord_app.errors import NotAdmin
from bot.discord_app.i18n import ls, t
from bot.discord_app.markdown import clip, code_block, code_safe
from bot.discord_app.permissions import is_admin

log = logging.getLogger(__name__)


def require_admin(interaction: Interaction) -> bool:
    """Manage Server, or one of `settings.discord.admin_role_ids`; raises `NotAdmin` otherwise."""
    if is_admin(interaction, bot_of(interaction).settings.discord.admin_role_ids):
        return True
    raise NotAdmin()


class AdminCog(commands.Cog):
    @app_commands.command(name=ls("cmd.help"), description=ls("cmd.help.desc"))
    async def help(self, interaction: Interaction) -> None:
        await interaction.response.send_message(
            t(interaction.locale, "help.text"), ephemeral=True, allowed_mentions=NONE
        )

    @app_commands.command(name=ls("cmd.reload"), description=ls("cmd.reload.desc"))
    @app_commands.guild_only()
    @app_commands.check(require_admin)
    async def reload(self, interaction: Interaction) -> None:
        catalog = bot_of(interaction).catalog
        report = catalog.refresh()
        loc = interaction.locale
        out: list[str] = []
        if report.loaded:
            out.append(
                t(loc, "reload.loaded", count=len(report.loaded), ids=", ".join(f"`{x}`" for x in report.loaded))
            )
        if report.removed:
            out.append(t(loc, "reload.removed", ids=", ".join(f"`{x}`" for x in report.removed)))
        if not report.loaded and not report.removed:
            out.append(t(loc, "reload.unchanged"))
        out.append(t(loc, "reload.total", count=len(catalog.lessons())))
        errors = catalog.errors
        if errors:
            out.append(t(loc, "reload.errors", count=len(errors)))
            out.append(code_block(clip(code_safe("\n".join(str(e) for e in errors)), 1400)))
        log.info("reload by %s: %d loaded, %d removed, %d errors", interaction.user.id, len(report.loaded),
                 len(report.removed), len(errors))  # fmt: skip
        await interaction.response.send_message(clip("\n".join(out), 2000), ephemeral=True, allowed_mentions=NONE)
