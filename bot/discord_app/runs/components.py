"""The run buttons, stateless (see `components.py`):

cb:run:<r|a>:<lesson>:<example>[:<python>]
                                    run an example (r = from a lesson page, a = "Run again"), on the Python
                                    version the member had chosen (none: the default, or a comparison)
cb:stop:<owner>:<run id>            stop a run (only the member who started it)
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.core.record import RunRecord
from bot.discord_app.components import Handled, frozen_view
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.errors import send_ephemeral
from bot.discord_app.i18n import t
from bot.discord_app.runs.service import RunService
from bot.discord_app.runs.stream import RunTicket

SLUG = r"[a-z0-9][a-z0-9_-]*"
RUN = rf"cb:run:(?P<kind>[ra]):(?P<lesson>{SLUG}):(?P<example>{SLUG})(?::(?P<python>3\.\d{{1,2}}))?"
STOP = r"cb:stop:(?P<owner>\d+):(?P<run>\d+)"


class RunButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=RUN):
    def __init__(
        self,
        kind: str,
        lesson_id: str,
        example_id: str,
        *,
        label: str = "",
        row: int | None = None,
        python: str | None = None,
    ) -> None:
        self.kind, self.lesson_id, self.example_id, self.python = kind, lesson_id, example_id, python
        style = discord.ButtonStyle.success if kind == "r" else discord.ButtonStyle.primary
        custom_id = f"cb:run:{kind}:{lesson_id}:{example_id}" + (f":{python}" if python else "")
        super().__init__(discord.ui.Button(label=label[:80] or None, custom_id=custom_id, style=style), row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RunButton:
        return cls(match["kind"], match["lesson"], match["example"], python=match["python"])

    async def handle(self, interaction: Interaction) -> None:
        service = services_of(interaction.client).get(RunService)
        await service.start(interaction, self.lesson_id, self.example_id, self.python)


class StopButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=STOP):
    def __init__(self, owner: int, run_id: int, *, label: str = "") -> None:
        self.owner, self.run_id = owner, run_id
        custom_id = f"cb:stop:{owner}:{run_id}"
        super().__init__(discord.ui.Button(label=label or None, custom_id=custom_id, style=discord.ButtonStyle.danger))

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StopButton:
        return cls(int(match["owner"]), int(match["run"]))

    async def handle(self, interaction: Interaction) -> None:
        if interaction.user.id != self.owner:
            await send_ephemeral(interaction, t(interaction.locale, "run.stop_not_yours"))
            return
        stream = services_of(interaction.client).get(RunService).find(self.run_id)
        if stream is None or stream.record.done:
            await send_ephemeral(interaction, t(interaction.locale, "run.stop_done"))
            return
        stream.run.cancel()
        await send_ephemeral(interaction, t(interaction.locale, "run.stop_ok"))


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (RunButton, StopButton)


def run_controls(ticket: RunTicket, record: RunRecord) -> discord.ui.View:
    """Stop while the run is going, Run again once it has finished."""
    if record.done:
        label = t(ticket.locale, "run.again")
        return frozen_view(RunButton("a", ticket.lesson_id, ticket.example_id, label=label, python=ticket.python))
    return frozen_view(StopButton(ticket.owner, ticket.run_id, label=t(ticket.locale, "run.stop")))
