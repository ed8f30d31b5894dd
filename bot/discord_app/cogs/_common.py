"""Helpers shared by the cogs: autocomplete over the catalogue, and the bot type."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands

from bot.core.errors import CorobotError
from bot.core.lessons import Lesson
from bot.discord_app.i18n import lesson_locale

if TYPE_CHECKING:
    from bot.discord_app.client import CorobotBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
NONE = discord.AllowedMentions.none()


def bot_of(interaction: Interaction) -> CorobotBot:
    return cast("CorobotBot", interaction.client)


def _choice_name(title: str, ident: str) -> str:
    name = f"{title} · {ident}" if title != ident else ident
    return name if len(name) <= 100 else name[: 97 - len(ident)] + "… " + ident


def lesson_choices(lessons: list[Lesson], locale: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=_choice_name(x.title.get(locale), x.id), value=x.id) for x in lessons[:25]]


async def lesson_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Lessons whose id or title (in the user's language) contains what was typed."""
    locale = lesson_locale(interaction.locale)
    catalog = bot_of(interaction).catalog
    found = catalog.search(current, locale=locale, limit=25) if current.strip() else catalog.lessons()
    return lesson_choices(found, locale)


async def example_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The examples of the lesson chosen in the `lesson` option, filtered by id or title."""
    locale = lesson_locale(interaction.locale)
    lesson_id = getattr(interaction.namespace, "lesson", None)
    if not isinstance(lesson_id, str):
        return []
    try:
        lesson = bot_of(interaction).catalog.get(lesson_id)
    except CorobotError:
        return []
    needle = current.strip().lower()
    out: list[app_commands.Choice[str]] = []
    for example in lesson.examples:
        title = example.title.get(locale) if example.title is not None else example.id
        if needle and needle not in example.id.lower() and needle not in title.lower():
            continue
        out.append(app_commands.Choice(name=_choice_name(title, example.id), value=example.id))
    return out[:25]


async def tag_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    tags = sorted({tag for lesson in bot_of(interaction).catalog.lessons() for tag in lesson.tags})
    needle = current.strip().lower()
    return [app_commands.Choice(name=x, value=x) for x in tags if needle in x.lower()][:25]
