"""Option autocomplete shared by the commands that take a lesson (and an example, a tag, or a Python version)."""

from __future__ import annotations

from discord import app_commands

from bot.core.errors import CorobotError
from bot.core.lessons import Lesson
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.i18n import lesson_locale, t

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


async def example_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The examples of the lesson chosen in the `lesson` option, filtered by id or title."""
    locale = lesson_locale(interaction.locale)
    lesson_id = getattr(interaction.namespace, "lesson", None)
    if not isinstance(lesson_id, str):
        return []
    try:
        lesson = services_of(interaction.client).catalog.get(lesson_id)
    except CorobotError:
        return []
    needle = current.strip().lower()
    out: list[app_commands.Choice[str]] = []
    for example in lesson.examples:
        title = example.title.get(locale) if example.title is not None else example.id
        if needle and needle not in example.id.lower() and needle not in title.lower():
            continue
        out.append(app_commands.Choice(name=_choice_name(title, example.id), value=example.id))
    return out[:MAX_CHOICES]


async def tag_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    tags = sorted({tag for lesson in services_of(interaction.client).catalog.lessons() for tag in lesson.tags})
    needle = current.strip().lower()
    return [app_commands.Choice(name=x, value=x) for x in tags if needle in x.lower()][:MAX_CHOICES]


async def python_autocomplete(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The Python versions the runner offers (the default marked); those the chosen example is about first."""
    services = services_of(interaction.client)
    pythons = services.runner.pythons
    declared: list[str] = []
    namespace = interaction.namespace
    lesson_id, example_id = getattr(namespace, "lesson", None), getattr(namespace, "example", None)
    if isinstance(lesson_id, str):
        try:
            _, example = services.catalog.example(lesson_id, example_id if isinstance(example_id, str) else None)
        except CorobotError:
            pass
        else:
            declared = example.versions or []
    needle = current.strip().lower().removeprefix("python").strip()
    out: list[app_commands.Choice[str]] = []
    for version, release in sorted(pythons.releases, key=lambda pair: pair[0] not in declared):
        if needle and needle not in release:
            continue
        if version == pythons.default:
            name = t(interaction.locale, "run.python_default", release=release)
        elif version in declared:
            name = t(interaction.locale, "run.python_declared", release=release)
        else:
            name = t(interaction.locale, "compare.python", release=release)
        out.append(app_commands.Choice(name=name[:100], value=version))
    return out[:MAX_CHOICES]
