"""The Stop button of a learner run, stateless (see `components.py`):

    cb:pgstop:<owner>:<run>     stop a learner run (only the member whose run it is)

The buttons that open code forms live in `forms.py` (other features put them on their messages).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord_app.components import Handled, frozen_view
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.errors import send_ephemeral
from bot.discord_app.i18n import t
from bot.discord_app.playground.service import PlaygroundService
from bot.discord_app.runs.stream import RunTicket

STOP = r"cb:pgstop:(?P<owner>\d+):(?P<run>\d+)"


class LearnerStop(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=STOP):
    def __init__(self, owner: int, key: int, *, label: str = "") -> None:
        self.owner, self.key = owner, key
        custom_id = f"cb:pgstop:{owner}:{key}"
        super().__init__(discord.ui.Button(label=label or None, custom_id=custom_id, style=discord.ButtonStyle.danger))

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LearnerStop:
        return cls(int(match["owner"]), int(match["run"]))

    async def handle(self, interaction: Interaction) -> None:
        if interaction.user.id != self.owner:
            await send_ephemeral(interaction, t(interaction.locale, "run.stop_not_yours"))
            return
        stopped = services_of(interaction.client).get(PlaygroundService).stop(self.key)
        await send_ephemeral(interaction, t(interaction.locale, "run.stop_ok" if stopped else "run.stop_done"))


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (LearnerStop,)


def stop_view(ticket: RunTicket) -> discord.ui.View:
    """What a learner run's message carries while it runs (given to `PlaygroundService`)."""
    return frozen_view(LearnerStop(ticket.owner, ticket.run_id, label=t(ticket.locale, "run.stop")))
