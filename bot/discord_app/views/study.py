"""Study-session card buttons: stateless (`cs:<action>:<session id>`), so they work after a restart.

Actions: j = Join, l = Leave (anyone); n = Next section, r = Run example, q = Quiz question,
p = Pause/Resume, e = End (the host, or an admin: Manage Server or a configured admin role).
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.sessions import SessionStatus
from bot.discord_app.i18n import t
from bot.discord_app.views.buttons import SafeItem, frozen_view

if TYPE_CHECKING:
    from bot.discord_app.client import CorobotBot
    from bot.discord_app.studies import LiveSession

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]

_STYLES = {
    "j": discord.ButtonStyle.success,
    "l": discord.ButtonStyle.secondary,
    "n": discord.ButtonStyle.primary,
    "r": discord.ButtonStyle.primary,
    "q": discord.ButtonStyle.primary,
    "p": discord.ButtonStyle.secondary,
    "e": discord.ButtonStyle.danger,
}
_ROWS = {"j": 0, "l": 0, "n": 1, "r": 1, "q": 1, "p": 2, "e": 2}


class SessionButton(SafeItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cs:(?P<action>[jlnrqpe]):(?P<sid>[a-z0-9]+)"):  # fmt: skip  # noqa: E501
    def __init__(self, action: str, session_id: str, *, label: str = "") -> None:
        self.action, self.session_id = action, session_id
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label or action, custom_id=f"cs:{action}:{session_id}", style=_STYLES[action]
        )
        super().__init__(button, row=_ROWS[action])

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SessionButton:
        return cls(match["action"], match["sid"])

    async def handle(self, interaction: Interaction) -> None:
        await cast("CorobotBot", interaction.client).studies.press(interaction, self.session_id, self.action)


def session_components(live: LiveSession) -> discord.ui.View | None:
    session, locale = live.session, live.locale
    if session.status is SessionStatus.ENDED:
        return None
    pause = "study.resume" if session.status is SessionStatus.PAUSED else "study.pause"
    labels = {"j": "study.join", "l": "study.leave", "n": "study.next", "r": "study.run", "q": "study.quiz",
              "p": pause, "e": "study.end"}  # fmt: skip
    return frozen_view(*(SessionButton(a, live.id, label=t(locale, key)) for a, key in labels.items()))
