"""Plumbing every feature's components share.

Components are stateless: each keeps what it needs in its `custom_id` (a `discord.ui.DynamicItem` with a
template), so it works on any message, for any member, and after a restart.  Views are `stop()`ped before they
are sent (`frozen_view`): discord.py keeps nothing per message, and dispatch goes through the registered
dynamic item classes.  A component's `callback` runs its `handle` and turns any failure into the same
ephemeral reply a command gets (`errors.report_error`).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.discord_app.context import Interaction
from bot.discord_app.errors import report_error

MAX_CUSTOM_ID = 100


def frozen_view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """A view of `items` that discord.py will not track (see the module docstring)."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


class Handled:
    """Mixin for a dynamic item (put it first): `callback` runs `handle` and reports any failure."""

    async def callback(self, interaction: Interaction) -> None:
        try:
            await self.handle(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def handle(self, interaction: Interaction) -> None:
        raise NotImplementedError
