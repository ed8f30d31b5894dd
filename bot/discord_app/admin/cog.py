"""/help (what corobot is) and /reload (admins: reload lessons from disk and report what failed)."""

from __future__ import annotations

import functools
import logging

from discord import app_commands
from discord.ext import commands

from bot.core.catalog import Catalog
from bot.core.peers import Payload, PeerReply
from bot.discord_app.context import NO_PINGS, Interaction, Services, services_of
from bot.discord_app.errors import NotAdmin
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls, t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe, inline_code
from bot.discord_app.permissions import is_admin

log = logging.getLogger(__name__)

ERRORS_SHOWN = 1400  # characters of load errors quoted in the reply


def require_admin(interaction: Interaction) -> bool:
    """Manage Server, or one of `settings.discord.admin_role_ids`; raises `NotAdmin` otherwise."""
    if is_admin(interaction, services_of(interaction.client).settings.discord.admin_role_ids):
        return True
    raise NotAdmin()


def reload_text(catalog: Catalog, locale: str, peers: list[PeerReply] | None = None) -> str:
    """Reload the lessons from disk and say what changed and which files are broken (and, with several bot
    processes, what the `peers` said when they reloaded too)."""
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
    if peers:
        out.append(t(locale, "admin.peers", count=len(peers)))
        out.extend(peer_line(reply, locale) for reply in peers)
    return clip("\n".join(out), MESSAGE_LIMIT)


def peer_line(reply: PeerReply, locale: str) -> str:
    process = inline_code(reply.process, 60)
    if not reply.ok:
        return t(locale, "admin.peer_failed", process=process, error=inline_code(str(reply.result.get("error")), 200))
    count, problems = (n if isinstance(n, int) else 0 for n in map(reply.result.get, ("available", "problems")))
    return t(locale, "admin.peer_reloaded", process=process, count=count, problems=problems)


async def reload_here(catalog: Catalog, _payload: Payload) -> Payload:
    """Another bot process ran /reload: reload this process's catalog too, and say how it went."""
    report = catalog.refresh()
    log.info("reload asked by another bot process: %d loaded, %d removed", len(report.loaded), len(report.removed))
    return {"available": len(catalog.lessons()), "problems": len(catalog.errors), "loaded": len(report.loaded)}


class AdminCog(Feature, name="Admin"):
    def __init__(self, bot: commands.Bot, services: Services, catalog: Catalog) -> None:
        super().__init__(bot, services)
        self.catalog = catalog

    async def cog_load(self) -> None:
        await super().cog_load()
        if self.services.peers is not None:
            self.services.peers.on("reload", functools.partial(reload_here, self.catalog))

    async def cog_unload(self) -> None:
        if self.services.peers is not None:
            self.services.peers.off("reload")
        await super().cog_unload()

    @app_commands.command(name=ls("cmd.help"), description=ls("cmd.help.desc"))
    async def help(self, interaction: Interaction) -> None:
        await interaction.response.send_message(
            t(interaction.locale, "admin.help"), ephemeral=True, allowed_mentions=NO_PINGS
        )

    @app_commands.command(name=ls("cmd.reload"), description=ls("cmd.reload.desc"))
    @app_commands.guild_only()
    @app_commands.check(require_admin)
    async def reload(self, interaction: Interaction) -> None:
        peers = self.services.peers
        if peers is None:
            text = reload_text(self.catalog, lesson_locale(interaction.locale))
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:  # the other bot processes answer within ~2 s: acknowledge first
            await interaction.response.defer(ephemeral=True, thinking=True)
            replies = await peers.broadcast("reload")
            text = reload_text(self.catalog, lesson_locale(interaction.locale), replies)
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        counts = (len(self.catalog.lessons()), len(self.catalog.errors))
        log.info("reload by %s: %d lessons, %d errors", interaction.user.id, *counts)
