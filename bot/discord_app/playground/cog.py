"""/try, the "Run with corobot" message command, the Edit & run forms, re-runs of edited messages, and the
admins' switch: /playground on|off [channel], /playground status."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.playground import Playground
from bot.discord_app.admin.cog import require_admin
from bot.discord_app.context import NO_PINGS, Interaction, Services
from bot.discord_app.errors import report_error
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import ls, t
from bot.discord_app.playground.components import ITEMS as STOP_ITEMS
from bot.discord_app.playground.forms import (
    CODE,
    EDIT_FORM,
    STDIN,
    TRY_FORM,
    form_values,
    open_try_form,
    submitted_form,
)
from bot.discord_app.playground.forms import ITEMS as FORM_ITEMS
from bot.discord_app.playground.service import PlaygroundService

log = logging.getLogger(__name__)

OPTION_LIMIT = 6000  # characters Discord allows in a string option
Channel = app_commands.AppCommandChannel | app_commands.AppCommandThread  # as resolved: no cache needed


class PlaygroundCog(Feature, name="Playground"):
    items = (*FORM_ITEMS, *STOP_ITEMS)

    playground = app_commands.Group(
        name=ls("cmd.playground"), description=ls("cmd.playground.desc"), guild_only=True
    )

    def __init__(self, bot: commands.Bot, services: Services, core: Playground, learner: PlaygroundService) -> None:
        super().__init__(bot, services)
        self.core = core
        self.learner = learner
        self.menu = app_commands.ContextMenu(name=ls("cmd.run_with_corobot"), callback=self.run_message)

    async def cog_load(self) -> None:
        await super().cog_load()
        self.services.components.add_form(EDIT_FORM)
        self.services.components.add_form(TRY_FORM)
        self.services.provide(self.core)
        self.services.provide(self.learner)
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)
        await self.learner.shutdown(grace=self.services.shutdown_grace)
        self.services.withdraw(PlaygroundService)
        self.services.withdraw(Playground)
        self.services.components.remove_form(TRY_FORM)
        self.services.components.remove_form(EDIT_FORM)
        await super().cog_unload()

    @app_commands.command(name=ls("cmd.try"), description=ls("cmd.try.desc"))
    @app_commands.rename(code=ls("opt.code"), stdin=ls("opt.stdin"))
    @app_commands.describe(code=ls("opt.code.desc"), stdin=ls("opt.stdin.desc"))
    async def try_code(
        self,
        interaction: Interaction,
        code: app_commands.Range[str, 1, OPTION_LIMIT] | None = None,
        stdin: app_commands.Range[str, 1, OPTION_LIMIT] | None = None,
    ) -> None:
        if code is None:
            await open_try_form(interaction)
            return
        await self.learner.run_try(interaction, code.strip() + "\n", stdin)

    async def run_message(self, interaction: Interaction, message: discord.Message) -> None:
        await self.learner.run_message(interaction, message)

    @playground.command(name=ls("cmd.playground.off"), description=ls("cmd.playground.off.desc"))
    @app_commands.rename(channel=ls("opt.channel"))
    @app_commands.describe(channel=ls("opt.channel.desc"))
    @app_commands.check(require_admin)
    async def off(self, interaction: Interaction, channel: Channel | None = None) -> None:
        await self._switch(interaction, channel, enabled=False)

    @playground.command(name=ls("cmd.playground.on"), description=ls("cmd.playground.on.desc"))
    @app_commands.rename(channel=ls("opt.channel"))
    @app_commands.describe(channel=ls("opt.channel.desc"))
    @app_commands.check(require_admin)
    async def on(self, interaction: Interaction, channel: Channel | None = None) -> None:
        await self._switch(interaction, channel, enabled=True)

    @playground.command(name=ls("cmd.playground.status"), description=ls("cmd.playground.status.desc"))
    @app_commands.check(require_admin)
    async def status(self, interaction: Interaction) -> None:
        guild = interaction.guild_id or 0
        storage = self.services.storage
        policy = await storage.learner_policy(guild)
        server = self._state(interaction, policy.get(0, self.core.limits.enabled))
        lines = [t(interaction.locale, "playground.status_server", state=server)]
        for channel, enabled in sorted(policy.items()):
            if channel:
                state = self._state(interaction, enabled)
                lines.append(t(interaction.locale, "playground.status_channel", channel=f"<#{channel}>", state=state))
        await interaction.response.send_message("\n".join(lines), ephemeral=True, allowed_mentions=NO_PINGS)

    @staticmethod
    def _state(interaction: Interaction, enabled: bool) -> str:
        return t(interaction.locale, "playground.state_on" if enabled else "playground.state_off")

    async def _switch(
        self, interaction: Interaction, channel: Channel | None, *, enabled: bool
    ) -> None:
        guild, user = interaction.guild_id or 0, interaction.user.id
        await self.services.storage.set_learner_policy(guild, channel.id if channel else 0, enabled)
        if channel is not None:
            key = "playground.switched_on_channel" if enabled else "playground.switched_off_channel"
            text = t(interaction.locale, key, channel=f"<#{channel.id}>")
        else:
            text = t(interaction.locale, "playground.switched_on" if enabled else "playground.switched_off")
        where = channel.id if channel else "all"
        log.info("learner code %s in guild %s channel %s by %s", "on" if enabled else "off", guild, where, user)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: Interaction) -> None:
        """The code forms carry what they are about in their custom id (see `forms.py`)."""
        custom_id = submitted_form(interaction)
        if custom_id is None:
            return
        edit = EDIT_FORM.fullmatch(custom_id)
        if edit is None and TRY_FORM.fullmatch(custom_id) is None:
            return
        values = form_values(interaction)
        code, stdin = values.get(CODE, ""), values.get(STDIN) or None
        try:
            if edit is not None:
                await self.learner.run_edit(interaction, edit["lesson"], edit["example"], code, stdin)
            else:
                await self.learner.run_try(interaction, code, stdin)
        except Exception as exc:
            await report_error(interaction, exc)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """An author edited a message run with "Run with corobot": re-run it (see `service.message_edited`)."""
        content = payload.data.get("content")
        self.learner.message_edited(payload.message_id, content if isinstance(content, str) and content else None)
