"""The exercise buttons, stateless (see `components.py`):

    cb:ex:<o|n>:<lesson>:<exercise>    solve: a form with your last submission (o) or the starting code (n)

The form they open is `cf:ex:<lesson>:<exercise>` (its template lives with the other code forms).
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.core.exercises import find_exercise
from bot.core.playground import Playground
from bot.discord_app.components import MAX_CUSTOM_ID, Handled, frozen_view
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.playground.forms import SLUG, channels_of, send_code_form

SOLVE = rf"cb:ex:(?P<start>[on]):(?P<lesson>{SLUG}):(?P<exercise>{SLUG})"


class SolveButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=SOLVE):
    def __init__(self, start: str, lesson_id: str, exercise_id: str, *, label: str = "") -> None:
        self.start, self.lesson_id, self.exercise_id = start, lesson_id, exercise_id
        style = discord.ButtonStyle.success if start == "o" else discord.ButtonStyle.secondary
        custom_id = f"cb:ex:{start}:{lesson_id}:{exercise_id}"
        super().__init__(discord.ui.Button(label=label[:80] or None, custom_id=custom_id, style=style))

    @staticmethod
    def fits(lesson_id: str, exercise_id: str) -> bool:
        return len(f"cb:ex:o:{lesson_id}:{exercise_id}") <= MAX_CUSTOM_ID

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SolveButton:
        return cls(match["start"], match["lesson"], match["exercise"])

    async def handle(self, interaction: Interaction) -> None:
        services = services_of(interaction.client)
        playground = services.get(Playground)
        locale = lesson_locale(interaction.locale)
        await playground.refuse_if_off(interaction.guild_id or 0, channels_of(interaction))
        lesson, exercise = find_exercise(services.catalog.lessons(), self.lesson_id, self.exercise_id)
        code = exercise.starter
        if self.start == "o":
            code = await playground.last_version(interaction.user.id, "exercise", lesson.id, exercise.id) or code
        title, name = t(locale, "exercise.form_title", exercise=exercise.id), f"{exercise.id}.py"
        custom_id = f"cf:ex:{lesson.id}:{exercise.id}"
        await send_code_form(interaction, code, name=name, title=title, custom_id=custom_id, stdin_limit=0)


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (SolveButton,)


def solve_view(lesson_id: str, exercise_id: str, locale: str, *, again: bool = False) -> discord.ui.View:
    """Solve (your last version, or the starting code the first time) and Start over (the starting code)."""
    if not SolveButton.fits(lesson_id, exercise_id):
        return frozen_view()
    label = t(locale, "exercise.try_again" if again else "exercise.solve")
    return frozen_view(
        SolveButton("o", lesson_id, exercise_id, label=label),
        SolveButton("n", lesson_id, exercise_id, label=t(locale, "exercise.start_over")),
    )
