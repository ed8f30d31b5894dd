"""Text of the catalogue (`/lessons`) and lesson (`/lesson`) pages: pure functions of lessons and a locale."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.lessons import Lesson
from bot.discord_app.i18n import t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip, code_block, code_safe, inline_code

PER_PAGE = 8
LEVELS = {
    "beginner": "lessons.level.beginner",
    "intermediate": "lessons.level.intermediate",
    "advanced": "lessons.level.advanced",
}


def level_name(level: str, locale: str) -> str:
    return t(locale, LEVELS[level]) if level in LEVELS else level


def filter_lessons(lessons: Sequence[Lesson], tag: str | None, level: str | None) -> list[Lesson]:
    wanted = tag.strip().lower() if tag else None
    return [
        lesson
        for lesson in lessons
        if (wanted is None or wanted in (x.lower() for x in lesson.tags)) and (level is None or lesson.level == level)
    ]


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def catalogue_page(
    lessons: Sequence[Lesson], page: int, locale: str, *, tag: str | None = None, level: str | None = None
) -> tuple[str, int, int]:
    """(content, page actually shown, page count) for the filtered lessons."""
    pages = page_count(len(lessons))
    page = min(max(page, 0), pages - 1)
    out = [t(locale, "lessons.header", count=len(lessons))]
    filters = [inline_code(x, 40) for x in (tag, level_name(level, locale) if level else None) if x]
    if filters:
        out.append("-# " + t(locale, "lessons.filtered", filters=", ".join(filters)))
    if not lessons:
        out.append(t(locale, "lessons.none"))
        return "\n".join(out), 0, 1
    for lesson in lessons[page * PER_PAGE : (page + 1) * PER_PAGE]:
        meta = [f"`{lesson.id}`"]
        if lesson.level:
            meta.append(level_name(lesson.level, locale))
        if lesson.tags:
            meta.append(", ".join(lesson.tags))
        out.append(f"**{clip(lesson.title.get(locale), 120)}** · " + " · ".join(meta))
        if lesson.summary is not None:
            out.append("> " + clip(lesson.summary.get(locale).strip().replace("\n", " "), 180))
    out.append("-# " + t(locale, "lessons.catalogue_page", page=page + 1, pages=pages))
    return clip("\n".join(out), MESSAGE_LIMIT), page, pages


def lesson_page_count(lesson: Lesson) -> int:
    return max(1, len(lesson.sections)) + len(lesson.examples)


def _overview(lesson: Lesson, locale: str) -> list[str]:
    out = [f"# {clip(lesson.title.get(locale), 200)}"]
    meta = [f"`{lesson.id}`"]
    if lesson.level:
        meta.append(level_name(lesson.level, locale))
    meta.extend(lesson.tags)
    out.append("-# " + " · ".join(meta))
    if lesson.summary is not None:
        out.append(lesson.summary.get(locale).strip())
    if lesson.objectives:
        out.extend(f"• {o.get(locale).strip()}" for o in lesson.objectives)
    return out


def section_heading(lesson: Lesson, index: int, locale: str) -> str:
    section = lesson.sections[index]
    return t(locale, "lessons.section", n=index + 1, total=len(lesson.sections), title=section.title.get(locale))


def lesson_page(lesson: Lesson, page: int, locale: str) -> tuple[str, int, int]:
    """(content, page shown, page count): the sections one per page (the first with the overview), then
    one page per example with its code."""
    pages = lesson_page_count(lesson)
    page = min(max(page, 0), pages - 1)
    sections = max(1, len(lesson.sections))
    out: list[str] = []
    if page < sections:
        out.extend(_overview(lesson, locale) if page == 0 else [f"**{clip(lesson.title.get(locale), 200)}**"])
        if lesson.sections:
            out.append("## " + section_heading(lesson, page, locale))
            out.append(lesson.sections[page].body.get(locale).strip())
    else:
        index = page - sections
        example = lesson.examples[index]
        title = example.title.get(locale) if example.title is not None else example.id
        out.append(f"**{clip(lesson.title.get(locale), 200)}**")
        heading = t(locale, "lessons.example", n=index + 1, total=len(lesson.examples), title=title, id=example.id)
        out.append("## " + heading)
        code = code_block(code_safe(example.code.rstrip("\n")), "py")
        out.append(code if len(code) < MESSAGE_LIMIT - 300 else code_block(clip(code_safe(example.code), 1500), "py"))
        out.append("-# " + t(locale, "lessons.try"))
    footer = "-# " + t(locale, "lessons.page", page=page + 1, pages=pages)
    text = "\n".join([*out, footer])
    if len(text) > MESSAGE_LIMIT:
        text = clip("\n".join(out), MESSAGE_LIMIT - len(footer) - 1) + "\n" + footer
    return text, page, pages
