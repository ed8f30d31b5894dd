"""Option autocomplete shared by the commands that take a lesson (and an example, or a tag)."""

from __future__ import annotations

from discord import app_commands

from bot.core.errors import CorobotError
from bot.core.lessons import Lesson
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.i18n import lesson_locale

MAX_CHOICES = 25


def _choice_name(title: str, ident: str) -> str:
    name = f"{title} · {ident}" if title != ident else ident
    return name if len(name) <= 100 else name[: 97 - len(ident)] + "… " + ident


def lesson_choices(lessons: list[Lesson], locale: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=_choice_name(x.title.get(locale), x.id), value=x.id) for x in lessons[:MAX_CHOICES]
    ]


async def lesson_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Lessons whose id or title (in the member's language) contains what was typed."""
    locale = lesson_locale(interaction.locale)
    catalog = services_of(interaction.client).catalog
    found = catalog.search(current, locale=locale, limit=MAX_CHOICES) if current.strip() else catalog.lessons()
    return lesson_choices(found, locale)


def _chosen_lesson(interaction: Interaction) -> Lesson | None:
    """The lesson picked in the command's `lesson` option, if it names one."""
    lesson_id = getattr(interaction.namespace, "lesson", None)
    if not isinstance(lesson_id, str):
        return None
    try:
        return services_of(interaction.client).catalog.get(lesson_id)
    except CorobotError:
        return None


def _matching(items: list[tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    """(title, id) pairs whose id or title contains what was typed, as choices."""
    needle = current.strip().lower()
    return [
        app_commands.Choice(name=_choice_name(title, ident), value=ident)
        for title, ident in items
        if not needle or needle in ident.lower() or needle in title.lower()
    ][:MAX_CHOICES]


async def example_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The examples of the lesson chosen in the `lesson` option, filtered by id or title."""
    locale, lesson = lesson_locale(interaction.locale), _chosen_lesson(interaction)
    if lesson is None:
        return []
    return _matching([(x.title.get(locale) if x.title is not None else x.id, x.id) for x in lesson.examples], current)


async def exercise_lesson_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Lessons that have exercises, by id or title."""
    locale = lesson_locale(interaction.locale)
    catalog = services_of(interaction.client).catalog
    found = catalog.search(current, locale=locale, limit=100) if current.strip() else catalog.lessons()
    return lesson_choices([x for x in found if x.exercises], locale)


async def exercise_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The exercises of the lesson chosen in the `lesson` option, filtered by id or title."""
    locale, lesson = lesson_locale(interaction.locale), _chosen_lesson(interaction)
    if lesson is None:
        return []
    return _matching([(x.title.get(locale), x.id) for x in lesson.exercises], current)


async def tag_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    tags = sorted({tag for lesson in services_of(interaction.client).catalog.lessons() for tag in lesson.tags})
    needle = current.strip().lower()
    return [app_commands.Choice(name=x, value=x) for x in tags if needle in x.lower()][:MAX_CHOICES]
