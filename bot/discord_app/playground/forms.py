"""The code forms (Discord modals) of learner code and the buttons that open them, stateless:

    cb:edit:<lesson>:<example>     Edit & run: the example's code (or your last version of it) in a form
    cb:try:again                   Edit again: your last /try code in a form
    cf:edit:<lesson>:<example>     the submitted Edit & run form
    cf:try                         the submitted /try form
    cf:ex:<lesson>:<exercise>      the submitted exercise form (exercises feature)

A leaf of the playground feature: the runs and lessons features put the Edit & run button on their messages
by importing it from here, so this module imports none of the features' services — it reaches learner code
through the core `Playground` the playground cog provides.  A form's text inputs hold 4,000 characters
(Discord's limit); an example longer than that is refused with a clear message and its code attached.
"""

from __future__ import annotations

import io
import re
from typing import Any

import discord

from bot.core.lessons import SLUG as SLUG_RULE
from bot.core.playground import Playground
from bot.discord_app.components import MAX_CUSTOM_ID, Handled
from bot.discord_app.context import NO_PINGS, Interaction, services_of
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.markdown import clip

SLUG = SLUG_RULE.strip("^$")
EDIT = rf"cb:edit:(?P<lesson>{SLUG}):(?P<example>{SLUG})"
TRY_AGAIN = r"cb:try:again"
EDIT_FORM = re.compile(rf"cf:edit:(?P<lesson>{SLUG}):(?P<example>{SLUG})")
TRY_FORM = re.compile(r"cf:try")
EXERCISE_FORM = re.compile(rf"cf:ex:(?P<lesson>{SLUG}):(?P<exercise>{SLUG})")
CODE, STDIN = "code", "stdin"
TEXT_LIMIT = 4000  # characters a Discord text input holds
TITLE_LIMIT, LABEL_LIMIT = 45, 45


def code_form(
    title: str, custom_id: str, code: str, locale: str, *, stdin_limit: int, with_stdin: bool = True
) -> discord.ui.Modal:
    """A form with the code (pre-filled) and, optionally, the program's standard input."""
    form = discord.ui.Modal(title=clip(title, TITLE_LIMIT), custom_id=custom_id)
    form.add_item(
        discord.ui.TextInput(
            label=clip(t(locale, "playground.form_code"), LABEL_LIMIT),
            custom_id=CODE,
            style=discord.TextStyle.paragraph,
            default=code or None,
            max_length=TEXT_LIMIT,
            required=True,
        )
    )
    if with_stdin and stdin_limit > 0:
        form.add_item(
            discord.ui.TextInput(
                label=clip(t(locale, "playground.form_stdin"), LABEL_LIMIT),
                custom_id=STDIN,
                style=discord.TextStyle.paragraph,
                placeholder=clip(t(locale, "playground.form_stdin_hint"), 100),
                max_length=min(stdin_limit, TEXT_LIMIT),
                required=False,
            )
        )
    form.stop()  # not tracked by discord.py: the submission comes back through the feature's listener
    return form


def form_values(interaction: Interaction) -> dict[str, str]:
    """The text inputs of a submitted form, by custom id (rows of inputs, or labels around them)."""
    data: Any = interaction.data or {}
    values: dict[str, str] = {}
    for top in data.get("components") or []:
        inner = top.get("components") or ([top["component"]] if isinstance(top.get("component"), dict) else [])
        for field in inner:
            if isinstance(field, dict) and isinstance(field.get("custom_id"), str):
                values[field["custom_id"]] = str(field.get("value") or "")
    return values


def submitted_form(interaction: Interaction) -> str | None:
    """The custom id of a submitted form, or None for any other interaction."""
    if interaction.type is not discord.InteractionType.modal_submit or interaction.data is None:
        return None
    custom_id = interaction.data.get("custom_id")
    return custom_id if isinstance(custom_id, str) else None


def channels_of(interaction: Interaction) -> tuple[int, ...]:
    """The channel, then its parent for a thread: where the admins' switch is looked up."""
    channel = interaction.channel
    found = [interaction.channel_id or 0]
    parent = getattr(channel, "parent_id", None)
    if isinstance(parent, int):
        found.append(parent)
    return tuple(found)


async def too_long(interaction: Interaction, code: str, name: str, locale: str) -> None:
    """Say clearly that the code is over a form's limit, and attach it so it can still be copied."""
    text = t(locale, "playground.too_long_for_form", size=len(code), limit=TEXT_LIMIT)
    file = discord.File(io.BytesIO(code.encode("utf-8", "replace")), name)
    await interaction.response.send_message(text, file=file, ephemeral=True, allowed_mentions=NO_PINGS)


async def send_code_form(
    interaction: Interaction, code: str, *, name: str, title: str, custom_id: str, stdin_limit: int
) -> None:
    """Answer with the code form pre-filled with `code` (and an input box unless `stdin_limit` is 0); a code
    longer than a form holds is refused clearly instead, with the code attached."""
    locale = lesson_locale(interaction.locale)
    if len(code) > TEXT_LIMIT:
        await too_long(interaction, code, name, locale)
        return
    form = code_form(title, custom_id, code, locale, stdin_limit=stdin_limit, with_stdin=stdin_limit > 0)
    await interaction.response.send_modal(form)


class EditButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=EDIT):
    """Edit & run an example: a form pre-filled with the member's last version of it, else the lesson's code."""

    def __init__(self, lesson_id: str, example_id: str, *, label: str = "", row: int | None = None) -> None:
        self.lesson_id, self.example_id = lesson_id, example_id
        custom_id = f"cb:edit:{lesson_id}:{example_id}"
        button = discord.ui.Button[Any](
            label=label[:80] or None, custom_id=custom_id, style=discord.ButtonStyle.secondary, emoji="✏️"
        )
        super().__init__(button, row=row)

    @staticmethod
    def fits(lesson_id: str, example_id: str) -> bool:
        return len(f"cb:edit:{lesson_id}:{example_id}") <= MAX_CUSTOM_ID

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> EditButton:
        return cls(match["lesson"], match["example"])

    async def handle(self, interaction: Interaction) -> None:
        services = services_of(interaction.client)
        playground = services.get(Playground)
        locale = lesson_locale(interaction.locale)
        await playground.refuse_if_off(interaction.guild_id or 0, channels_of(interaction))
        lesson, example = services.catalog.example(self.lesson_id, self.example_id)
        saved = await playground.last_version(interaction.user.id, "example", lesson.id, example.id)
        await send_code_form(
            interaction,
            saved or example.code,
            name=f"{example.id}.py",
            title=t(locale, "playground.edit_title", example=example.id),
            custom_id=f"cf:edit:{lesson.id}:{example.id}",
            stdin_limit=playground.limits.stdin_chars,
        )


class TryAgainButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=TRY_AGAIN):
    """Edit again after /try: a form with the member's last /try code."""

    def __init__(self, *, label: str = "") -> None:
        button = discord.ui.Button[Any](
            label=label[:80] or None, custom_id="cb:try:again", style=discord.ButtonStyle.secondary, emoji="✏️"
        )
        super().__init__(button)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TryAgainButton:
        return cls()

    async def handle(self, interaction: Interaction) -> None:
        await open_try_form(interaction)


async def open_try_form(interaction: Interaction, code: str | None = None) -> None:
    """The /try form, pre-filled with `code` or the member's last /try code."""
    playground = services_of(interaction.client).get(Playground)
    locale = lesson_locale(interaction.locale)
    await playground.refuse_if_off(interaction.guild_id or 0, channels_of(interaction))
    if code is None:
        code = await playground.last_version(interaction.user.id, "try", "", "") or ""
    title, limit = t(locale, "playground.try_title"), playground.limits.stdin_chars
    await send_code_form(interaction, code, name="main.py", title=title, custom_id="cf:try", stdin_limit=limit)


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (EditButton, TryAgainButton)
