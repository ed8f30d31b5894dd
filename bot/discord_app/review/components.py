"""The review feature's buttons, stateless (see `components.py`):

    rv:forget:<member>     /forget-me's confirmation: only that member's click deletes
    rv:stop:<guild>        "stop" under a reminder (in a direct message): no more reminders from anywhere

The button that opens the next lesson from /path is the lessons feature's page button
(`lessons.components.LessonPage`, page 0 of that lesson).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.core.errors import CorobotError
from bot.core.review.service import Learning
from bot.discord_app.components import Handled, frozen_view
from bot.discord_app.context import NO_PINGS, Interaction, services_of
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.lessons.components import LessonPage
from bot.discord_app.quiz.service import QuizService
from bot.discord_app.study.service import StudyService

log = logging.getLogger(__name__)

FORGET = r"rv:forget:(?P<member>\d+)"
STOP = r"rv:stop:(?P<guild>\d+)"


def learning_of(interaction: Interaction) -> Learning:
    found = services_of(interaction.client).learning
    if found is None:
        raise LookupError("the review feature is not loaded")
    return found


class ForgetButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=FORGET):
    def __init__(self, member: int, *, label: str = "") -> None:
        self.member = member
        button = discord.ui.Button[Any](
            label=label or None, custom_id=f"rv:forget:{member}", style=discord.ButtonStyle.danger
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(int(match["member"]))

    async def handle(self, interaction: Interaction) -> None:
        if interaction.user.id != self.member:
            raise CorobotError(message_id="review.forget_not_yours")
        removed = await learning_of(interaction).forget(self.member)
        await forget_in_live_quizzes(interaction, self.member)
        total, tables = sum(removed.values()), sum(1 for n in removed.values() if n)
        # for the admin: that it happened and how much, never whose or what
        log.info("forget-me in guild %s: %d row(s) deleted from %d table(s)", interaction.guild_id, total, tables)
        text = t(lesson_locale(interaction.locale), "review.forgotten", count=total)
        await interaction.response.edit_message(content=text, view=None, allowed_mentions=NO_PINGS)


async def forget_in_live_quizzes(interaction: Interaction, member: int) -> None:
    """Quizzes and study sessions running now (in memory) drop the member too, so their next save cannot
    bring them back."""
    services = services_of(interaction.client)
    studies = services.get(StudyService)
    for session in list(studies.live.values()):
        session.session.members.pop(member, None)
        if session.session.host_id == member:
            session.session.host_id = 0
        session.session.quiz.forget(member)
        await studies.save(session)
    quizzes = services.get(QuizService)
    for live in list(quizzes.live.values()):
        live.game.forget(member)
        if live.owner == member:
            live.owner = 0
        await quizzes.persist(live)


class StopButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=STOP):
    def __init__(self, guild: int, *, label: str = "") -> None:
        self.guild = guild
        button = discord.ui.Button[Any](
            label=label or None, custom_id=f"rv:stop:{guild}", style=discord.ButtonStyle.secondary
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StopButton:
        return cls(int(match["guild"]))

    async def handle(self, interaction: Interaction) -> None:
        await learning_of(interaction).stop_reminders(interaction.user.id)
        text = t(lesson_locale(interaction.locale), "review.reminders_stopped")
        await interaction.response.edit_message(content=text, view=None, allowed_mentions=NO_PINGS)


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ForgetButton, StopButton)


def forget_view(member: int, locale: str) -> discord.ui.View:
    return frozen_view(ForgetButton(member, label=t(locale, "review.forget_button")))


def stop_view(guild: int, locale: str) -> discord.ui.View:
    return frozen_view(StopButton(guild, label=t(locale, "review.stop_button")))


def open_lesson_view(lesson_id: str, locale: str) -> discord.ui.View:
    """A button that opens the lesson (the lessons feature's first page of it)."""
    return frozen_view(LessonPage("n", 0, lesson_id, label=t(locale, "review.open_lesson", lesson=lesson_id)))
