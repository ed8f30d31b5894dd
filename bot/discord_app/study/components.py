"""The session card's buttons, stateless (`cs:<action>:<session id>`), so a card works after a restart:

    cs:j / cs:l         Join, Leave (anyone)
    cs:n / cs:r / cs:q  Next section, Run example, Quiz question (the host or an admin)
    cs:p / cs:e         Pause or Resume, End (the host or an admin)

Each button is its own class calling its own `StudyService` method; the letter lives only in the custom id.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Self

import discord

from bot.core.sessions import SessionStatus
from bot.discord_app.components import Handled, frozen_view
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.i18n import t
from bot.discord_app.study.service import LiveSession, StudyService

SID = r"(?P<sid>[a-z0-9]+)"


class CardButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cs:[a-z]:{SID}"):
    """A card button (never registered itself: each subclass has its own template and action)."""

    LETTER: ClassVar[str] = ""
    STYLE: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.primary
    ROW: ClassVar[int] = 1
    LABEL: ClassVar[str] = ""

    def __init__(self, session_id: str, *, label: str = "") -> None:
        self.session_id = session_id
        custom_id = f"cs:{self.LETTER}:{session_id}"
        super().__init__(discord.ui.Button(label=label or None, custom_id=custom_id, style=self.STYLE), row=self.ROW)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> Self:
        return cls(match["sid"])

    async def handle(self, interaction: Interaction) -> None:
        await self.act(services_of(interaction.client).get(StudyService), interaction)

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        raise NotImplementedError


class JoinButton(CardButton, template=rf"cs:j:{SID}"):
    LETTER, STYLE, ROW, LABEL = "j", discord.ButtonStyle.success, 0, "study.join"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.join(interaction, self.session_id)


class LeaveButton(CardButton, template=rf"cs:l:{SID}"):
    LETTER, STYLE, ROW, LABEL = "l", discord.ButtonStyle.secondary, 0, "study.leave"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.leave(interaction, self.session_id)


class NextSectionButton(CardButton, template=rf"cs:n:{SID}"):
    LETTER, LABEL = "n", "study.next"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.next_section(interaction, self.session_id)


class RunExampleButton(CardButton, template=rf"cs:r:{SID}"):
    LETTER, LABEL = "r", "study.run"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.run_section_example(interaction, self.session_id)


class AskQuestionButton(CardButton, template=rf"cs:q:{SID}"):
    LETTER, LABEL = "q", "study.quiz"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.ask_question(interaction, self.session_id)


class PauseButton(CardButton, template=rf"cs:p:{SID}"):
    LETTER, STYLE, ROW, LABEL = "p", discord.ButtonStyle.secondary, 2, "study.pause"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.toggle_pause(interaction, self.session_id)


class EndButton(CardButton, template=rf"cs:e:{SID}"):
    LETTER, STYLE, ROW, LABEL = "e", discord.ButtonStyle.danger, 2, "study.end"

    async def act(self, studies: StudyService, interaction: Interaction) -> None:
        await studies.end_by(interaction, self.session_id)


ITEMS: tuple[type[CardButton], ...] = (
    JoinButton,
    LeaveButton,
    NextSectionButton,
    RunExampleButton,
    AskQuestionButton,
    PauseButton,
    EndButton,
)


def card_controls(live: LiveSession) -> discord.ui.View | None:
    session, locale = live.session, live.locale
    if session.status is SessionStatus.ENDED:
        return None
    buttons = []
    for kind in ITEMS:
        label = "study.resume" if kind is PauseButton and session.status is SessionStatus.PAUSED else kind.LABEL
        buttons.append(kind(live.id, label=t(locale, label)))
    return frozen_view(*buttons)
