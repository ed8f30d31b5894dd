"""/review, /path, /timezone, /reminders, /forget-me, and the admins' /recap."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.review.service import Learning
from bot.core.tasks import OwnedTasks
from bot.discord_app.admin.cog import require_admin
from bot.discord_app.context import NO_PINGS, Interaction, Services
from bot.discord_app.feature import Feature
from bot.discord_app.i18n import lesson_locale, ls, t
from bot.discord_app.review.background import Background
from bot.discord_app.review.components import ITEMS, forget_view, open_lesson_view
from bot.discord_app.review.service import ReviewService
from bot.discord_app.review.texts import nothing_due, path_text
from bot.discord_app.runs.service import RunService
from bot.locales import LANGUAGES

log = logging.getLogger(__name__)



def stop_words() -> set[str]:
    """What a reply to a reminder says to stop them, in every language (and English everywhere)."""
    return {t(language, "review.stop_word").casefold() for language in LANGUAGES}


class ReviewCog(Feature, name="Review"):
    items = ITEMS

    def __init__(self, bot: commands.Bot, services: Services, reviews: ReviewService, background: Background) -> None:
        super().__init__(bot, services)
        self.reviews = reviews
        self.learning: Learning = reviews.learning
        self.background = background
        self.tasks = OwnedTasks()
        self.runs: RunService | None = None

    async def cog_load(self) -> None:
        """Feed every quiz's answers into review cards, and start reminders and recaps."""
        await super().cog_load()
        self.reviews.attach()
        self.runs = self.services.get(RunService)
        self.runs.on_recorded.append(self.learning.record_run)  # a lesson's last example run can finish it
        self.services.provide(self.reviews)
        self.tasks.spawn(self.background.run(), name="review-background", key="background")

    async def cog_unload(self) -> None:
        await self.tasks.close()
        self.reviews.detach()
        if self.runs is not None:
            self.runs.on_recorded.remove(self.learning.record_run)
        self.services.withdraw(ReviewService)
        await super().cog_unload()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A reply "stop" to a reminder, in a direct message: no more reminders from any server."""
        if message.guild is None and not message.author.bot and message.content.strip().casefold() in stop_words():
            stopped = await self.learning.stop_reminders(message.author.id)
            log.info("a member replied stop to a reminder: %d reminder setting(s) turned off", stopped)

    @app_commands.command(name=ls("cmd.review"), description=ls("cmd.review.desc"))
    async def review(self, interaction: Interaction) -> None:
        locale = lesson_locale(interaction.locale)
        guild, user = interaction.guild_id or 0, interaction.user.id
        items = await self.learning.due(guild, user)
        if not items:
            _, upcoming = await self.learning.storage.review_load(guild, user, self.learning.clock())
            await interaction.response.send_message(nothing_due(upcoming, locale), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send(t(locale, "review.intro", count=len(items)), ephemeral=True)
        await self.reviews.start(interaction, items, locale)

    @app_commands.command(name=ls("cmd.path"), description=ls("cmd.path.desc"))
    async def path(self, interaction: Interaction) -> None:
        locale = lesson_locale(interaction.locale)
        found = await self.learning.path(interaction.guild_id or 0, interaction.user.id)
        text = path_text(found, self.learning.settings.mastery, locale)
        view = open_lesson_view(found.next.lesson_id, locale) if found.next else discord.utils.MISSING
        await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name=ls("cmd.timezone"), description=ls("cmd.timezone.desc"))
    @app_commands.rename(zone=ls("opt.zone"))
    @app_commands.describe(zone=ls("opt.zone.desc"))
    async def timezone(self, interaction: Interaction, zone: app_commands.Range[str, 1, 64]) -> None:
        saved = await self.learning.set_timezone(interaction.user.id, zone)
        days = await self.learning.streak(interaction.user.id)
        text = t(interaction.locale, "review.timezone_set", zone=saved, count=days.current)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name=ls("cmd.reminders"), description=ls("cmd.reminders.desc"))
    @app_commands.rename(enabled=ls("opt.enabled"))
    @app_commands.describe(enabled=ls("opt.enabled.desc"))
    async def reminders(self, interaction: Interaction, enabled: bool) -> None:
        await self.learning.set_reminders(interaction.guild_id or 0, interaction.user.id, enabled)
        key = "review.reminders_on" if enabled else "review.reminders_off"
        hour = self.learning.settings.reminder_hour
        await interaction.response.send_message(t(interaction.locale, key, hour=hour), ephemeral=True)

    @app_commands.command(name=ls("cmd.forget_me"), description=ls("cmd.forget_me.desc"))
    async def forget_me(self, interaction: Interaction) -> None:
        locale = lesson_locale(interaction.locale)
        view = forget_view(interaction.user.id, locale)
        text = t(locale, "review.forget_confirm")
        await interaction.response.send_message(text, view=view, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name=ls("cmd.recap"), description=ls("cmd.recap.desc"))
    @app_commands.rename(channel=ls("opt.channel"), now=ls("opt.now"))
    @app_commands.describe(channel=ls("opt.channel.desc"), now=ls("opt.now.desc"))
    @app_commands.guild_only()
    async def recap(
        self, interaction: Interaction, channel: app_commands.AppCommandChannel | None = None, now: bool = False
    ) -> None:
        require_admin(interaction)
        guild = interaction.guild_id or 0
        storage = self.learning.storage
        if channel is None and not now:
            await storage.set_recap_channel(guild, None)
            await interaction.response.send_message(t(interaction.locale, "review.recap_off"), ephemeral=True)
            return
        if channel is not None:
            await storage.set_recap_channel(guild, channel.id)
            await storage.recap_posted(guild, self.learning.clock())  # the first one a week from now
            log.info("guild %s: weekly recap channel set to %s", guild, channel.id)
        chosen = {g: c for g, c, _ in await storage.recap_channels()}.get(guild)
        if chosen is None:
            await interaction.response.send_message(t(interaction.locale, "review.recap_no_channel"), ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True)
        if now:
            await self.background.post_recap(guild, chosen)
        text = t(interaction.locale, "review.recap_set", channel=f"<#{chosen}>")
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
