"""The review feature's background work: reminders by direct message and the weekly recaps.

**Reminders.** Every `review.reminder_interval` seconds, `Learning.reminders_due()` says who gets one now
(opted in, cards due, no "stop", none yet today in their time zone, past `review.reminder_hour` there).
Each is checked to still be a member of the server (a REST look-up: no privileged intent needed); one who
left has their reminders for it dropped.  Messages go out one at a time, `review.reminder_spacing` seconds
apart, so a thousand due reminders never burst into Discord's rate limits (discord.py also waits out any
429).  A member whose direct messages are closed has their reminders stopped.  Each reminder carries a Stop
button; replying "stop" works too.

**Recaps.** Every server that chose a channel gets the last seven days (`Learning.recap`) there once a week.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.core.review.service import WEEK, Learning
from bot.core.storage import ReminderCandidate
from bot.discord_app.context import NO_PINGS
from bot.discord_app.i18n import t
from bot.discord_app.review.components import open_lesson_view, stop_view
from bot.discord_app.review.texts import recap_text

log = logging.getLogger(__name__)

BATCH = 50  # reminders looked up per pass


class Background:
    def __init__(self, client: discord.Client, learning: Learning, interval: float, spacing: float) -> None:
        self.client = client
        self.learning = learning
        self.interval = interval
        self.spacing = spacing
        self.sent = 0

    async def run(self) -> None:
        """Reminders and recaps until cancelled; a failing pass is logged and the next one comes anyway."""
        await self.client.wait_until_ready()
        while True:
            try:
                await self.remind()
                await self.recaps()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reminders/recaps: a pass failed")
            await asyncio.sleep(self.interval)

    async def remind(self) -> int:
        sent = 0
        for candidate in await self.learning.reminders_due(BATCH):
            if await self._remind(candidate):
                sent += 1
                await asyncio.sleep(self.spacing)
        self.sent += sent
        return sent

    async def _remind(self, candidate: ReminderCandidate) -> bool:
        guild = self.client.get_guild(candidate.guild_id)
        if guild is None:
            return False
        try:
            member = await guild.fetch_member(candidate.user_id)
        except discord.NotFound:
            log.info("a member left guild %s: their reminders for it are dropped", candidate.guild_id)
            await self.learning.storage.drop_reminders(candidate.guild_id, candidate.user_id)
            return False
        locale = str(guild.preferred_locale.value) if guild.preferred_locale else "en"
        text = t(locale, "review.reminder", count=candidate.due, server=guild.name)
        try:
            await member.send(text, view=stop_view(candidate.guild_id, locale), allowed_mentions=NO_PINGS)
        except discord.Forbidden:
            log.info("a member's direct messages are closed: their reminders are stopped")
            await self.learning.stop_reminders(candidate.user_id)
            return False
        await self.learning.reminded(candidate.guild_id, candidate.user_id)
        return True

    async def recaps(self) -> int:
        posted = 0
        now = self.learning.clock()
        for guild_id, channel_id, last in await self.learning.storage.recap_channels():
            if last is not None and now - last < WEEK:
                continue
            if await self.post_recap(guild_id, channel_id):
                posted += 1
        return posted

    async def post_recap(self, guild_id: int, channel_id: int) -> bool:
        guild = self.client.get_guild(guild_id)
        locale = str(guild.preferred_locale.value) if guild is not None and guild.preferred_locale else "en"
        recap = await self.learning.recap(guild_id)
        view = open_lesson_view(recap.most_missed.lesson_id, locale) if recap.most_missed else discord.utils.MISSING
        channel = self.client.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            await channel.send(recap_text(recap, locale), view=view, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("guild %s: could not post the weekly recap in %s: %s", guild_id, channel_id, exc)
            return False
        await self.learning.storage.recap_posted(guild_id, self.learning.clock())
        return True
