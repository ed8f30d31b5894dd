"""The page buttons, stateless (see `components.py`), and the messages that carry them:

    cb:ls:<p|n>:<page>:<level>:<tag>    catalogue page (previous / next)
    cb:lp:<p|n>:<page>:<lesson>         lesson page (previous / next)

A lesson page also carries a Run button per example (`runs.components.RunButton`), and an example's page the
playground's Edit & run button for that example (`playground.forms.EditButton`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.core.lessons import Lesson
from bot.discord_app.components import MAX_CUSTOM_ID, Handled, frozen_view
from bot.discord_app.context import NO_PINGS, Interaction, services_of
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.lessons.pages import catalogue_page, filter_lessons, lesson_page
from bot.discord_app.playground.forms import EditButton
from bot.discord_app.runs.components import SLUG, RunButton

log = logging.getLogger(__name__)

CATALOGUE = r"cb:ls:(?P<dir>[pn]):(?P<page>\d+):(?P<level>[a-z]*):(?P<tag>.*)"
LESSON = rf"cb:lp:(?P<dir>[pn]):(?P<page>\d+):(?P<lesson>{SLUG})"
MAX_RUN_BUTTONS = 20
PAGE_STYLE = discord.ButtonStyle.secondary


class CataloguePage(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=CATALOGUE):
    def __init__(self, direction: str, page: int, level: str, tag: str, *, label: str = "") -> None:
        self.direction, self.page, self.level, self.tag = direction, page, level, tag
        custom_id = f"cb:ls:{direction}:{page}:{level}:{tag}"[:MAX_CUSTOM_ID]
        button = discord.ui.Button[Any](label=label or None, custom_id=custom_id, style=PAGE_STYLE)
        super().__init__(button, row=0)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CataloguePage:
        return cls(match["dir"], int(match["page"]), match["level"], match["tag"])

    async def handle(self, interaction: Interaction) -> None:
        lessons = services_of(interaction.client).catalog.lessons()
        locale = lesson_locale(interaction.locale)
        content, view = catalogue_message(lessons, self.page, locale, tag=self.tag or None, level=self.level or None)
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=NO_PINGS)


class LessonPage(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=LESSON):
    def __init__(self, direction: str, page: int, lesson_id: str, *, label: str = "") -> None:
        self.direction, self.page, self.lesson_id = direction, page, lesson_id
        custom_id = f"cb:lp:{direction}:{page}:{lesson_id}"
        button = discord.ui.Button[Any](label=label or None, custom_id=custom_id, style=PAGE_STYLE)
        super().__init__(button, row=0)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LessonPage:
        return cls(match["dir"], int(match["page"]), match["lesson"])

    async def handle(self, interaction: Interaction) -> None:
        lesson = services_of(interaction.client).catalog.get(self.lesson_id)
        content, view = lesson_message(lesson, self.page, lesson_locale(interaction.locale))
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=NO_PINGS)


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (CataloguePage, LessonPage)


def catalogue_message(
    lessons: list[Lesson], page: int, locale: str, *, tag: str | None = None, level: str | None = None
) -> tuple[str, discord.ui.View]:
    selected = filter_lessons(lessons, tag, level)
    content, page, pages = catalogue_page(selected, page, locale, tag=tag, level=level)
    tag_key, level_key = (tag or "")[:40], level or ""
    previous = CataloguePage("p", max(page - 1, 0), level_key, tag_key, label=t(locale, "lessons.previous"))
    following = CataloguePage("n", min(page + 1, pages - 1), level_key, tag_key, label=t(locale, "lessons.next"))
    previous.item.disabled, following.item.disabled = page == 0, page >= pages - 1
    return content, frozen_view(previous, following)


def lesson_message(lesson: Lesson, page: int, locale: str) -> tuple[str, discord.ui.View]:
    content, page, pages = lesson_page(lesson, page, locale)
    previous = LessonPage("p", max(page - 1, 0), lesson.id, label=t(locale, "lessons.previous"))
    following = LessonPage("n", min(page + 1, pages - 1), lesson.id, label=t(locale, "lessons.next"))
    previous.item.disabled, following.item.disabled = page == 0, page >= pages - 1
    items: list[discord.ui.Item[Any]] = [previous, following]
    shown = page - max(1, len(lesson.sections))  # the example this page shows, if it shows one
    if 0 <= shown < len(lesson.examples) and EditButton.fits(lesson.id, lesson.examples[shown].id):
        label = t(locale, "playground.edit_and_run")
        items.append(EditButton(lesson.id, lesson.examples[shown].id, label=label, row=0))
    for i, example in enumerate(lesson.examples[:MAX_RUN_BUTTONS]):
        if len(f"cb:run:r:{lesson.id}:{example.id}") > MAX_CUSTOM_ID:
            log.warning("lesson %s example %s: id too long for a Run button", lesson.id, example.id)
            continue
        label = t(locale, "lessons.run", example=example.id)
        items.append(RunButton("r", lesson.id, example.id, label=label, row=1 + i // 5))
    return content, frozen_view(*items)
