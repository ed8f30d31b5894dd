"""Stateless buttons: each keeps its state in its `custom_id` (`discord.ui.DynamicItem`), so they work on any
message, for any user, and after a restart.  The bot registers them once with `add_dynamic_items`.

Views built here are `stop()`ped before sending: nothing is kept in discord.py's view store per message
(dispatch goes through the registered dynamic item classes), so thousands of run messages cost no memory.

custom_id formats (all under 100 characters):
  cb:ls:<p|n>:<page>:<level>:<tag>        catalogue page
  cb:lp:<p|n>:<page>:<lesson>             lesson page
  cb:run:<r|a>:<lesson>:<example>         run an example (r = from a lesson page, a = "Run again")
  cb:stop:<owner>:<run id>                stop a run (only its owner)
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.lessons import Lesson
from bot.core.record import RunRecord
from bot.discord_app.errors import report_error, send_ephemeral
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.pages import catalogue_page, filter_lessons, lesson_page

if TYPE_CHECKING:
    from bot.discord_app.client import CorobotBot

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
SLUG = r"[a-z0-9][a-z0-9_-]*"
MAX_CUSTOM_ID = 100
MAX_RUN_BUTTONS = 20


def _bot(interaction: Interaction) -> CorobotBot:
    return cast("CorobotBot", interaction.client)


def frozen_view(*items: discord.ui.Item[Any]) -> discord.ui.View:
    """A view of `items` that discord.py will not track (see the module docstring)."""
    view = discord.ui.View(timeout=None)
    for item in items:
        view.add_item(item)
    view.stop()
    return view


class SafeItem:
    """Mixin for a component: its callback runs `handle` and routes any failure to the error reporter."""

    async def callback(self, interaction: Interaction) -> None:
        try:
            await self.handle(interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    async def handle(self, interaction: Interaction) -> None:
        raise NotImplementedError


class CataloguePage(SafeItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cb:ls:(?P<dir>[pn]):(?P<page>\d+):(?P<level>[a-z]*):(?P<tag>.*)"):  # fmt: skip  # noqa: E501
    def __init__(self, direction: str, page: int, level: str, tag: str, *, label: str, disabled: bool) -> None:
        self.direction, self.page, self.level, self.tag = direction, page, level, tag
        custom_id = f"cb:ls:{direction}:{page}:{level}:{tag}"[:MAX_CUSTOM_ID]
        super().__init__(
            discord.ui.Button(label=label, custom_id=custom_id, disabled=disabled, style=discord.ButtonStyle.secondary),
            row=0,
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CataloguePage:
        return cls(match["dir"], int(match["page"]), match["level"], match["tag"], label="", disabled=False)

    async def handle(self, interaction: Interaction) -> None:
        content, view = catalogue_message(
            _bot(interaction).catalog.lessons(), self.page, lesson_locale(interaction.locale),
            tag=self.tag or None, level=self.level or None,
        )  # fmt: skip
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=_NONE)


class LessonPage(SafeItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cb:lp:(?P<dir>[pn]):(?P<page>\d+):(?P<lesson>{SLUG})"):  # fmt: skip  # noqa: E501
    def __init__(self, direction: str, page: int, lesson_id: str, *, label: str, disabled: bool) -> None:
        self.direction, self.page, self.lesson_id = direction, page, lesson_id
        super().__init__(
            discord.ui.Button(
                label=label, custom_id=f"cb:lp:{direction}:{page}:{lesson_id}", disabled=disabled,
                style=discord.ButtonStyle.secondary,
            ),
            row=0,
        )  # fmt: skip

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LessonPage:
        return cls(match["dir"], int(match["page"]), match["lesson"], label="", disabled=False)

    async def handle(self, interaction: Interaction) -> None:
        lesson = _bot(interaction).catalog.get(self.lesson_id)
        content, view = lesson_message(lesson, self.page, lesson_locale(interaction.locale))
        await interaction.response.edit_message(content=content, view=view, allowed_mentions=_NONE)


class RunButton(SafeItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cb:run:(?P<kind>[ra]):(?P<lesson>{SLUG}):(?P<example>{SLUG})"):  # fmt: skip  # noqa: E501
    def __init__(self, kind: str, lesson_id: str, example_id: str, *, label: str, row: int | None = None) -> None:
        self.kind, self.lesson_id, self.example_id = kind, lesson_id, example_id
        style = discord.ButtonStyle.success if kind == "r" else discord.ButtonStyle.primary
        super().__init__(
            discord.ui.Button(label=label[:80], custom_id=f"cb:run:{kind}:{lesson_id}:{example_id}", style=style),
            row=row,
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RunButton:
        return cls(match["kind"], match["lesson"], match["example"], label="")

    async def handle(self, interaction: Interaction) -> None:
        await _bot(interaction).runs.start(interaction, self.lesson_id, self.example_id)


class StopButton(SafeItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cb:stop:(?P<owner>\d+):(?P<run>\d+)"):  # fmt: skip  # noqa: E501
    def __init__(self, owner: int, run_id: int, *, label: str) -> None:
        self.owner, self.run_id = owner, run_id
        super().__init__(
            discord.ui.Button(label=label, custom_id=f"cb:stop:{owner}:{run_id}", style=discord.ButtonStyle.danger)
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StopButton:
        return cls(int(match["owner"]), int(match["run"]), label="")

    async def handle(self, interaction: Interaction) -> None:
        if interaction.user.id != self.owner:
            await send_ephemeral(interaction, t(interaction.locale, "run.stop_not_yours"))
            return
        stream = _bot(interaction).runs.find(self.run_id)
        if stream is None or stream.record.done:
            await send_ephemeral(interaction, t(interaction.locale, "run.stop_done"))
            return
        stream.run.cancel()
        await send_ephemeral(interaction, t(interaction.locale, "run.stop_ok"))


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (CataloguePage, LessonPage, RunButton, StopButton)
_NONE = discord.AllowedMentions.none()


def run_components(
    record: RunRecord, *, owner: int, run_id: int, lesson_id: str, example_id: str, locale: str
) -> discord.ui.View:
    """Stop while the run is going, Run again once it has finished."""
    if record.done:
        return frozen_view(RunButton("a", lesson_id, example_id, label=t(locale, "button.again")))
    return frozen_view(StopButton(owner, run_id, label=t(locale, "button.stop")))


def catalogue_message(
    lessons: list[Lesson], page: int, locale: str, *, tag: str | None = None, level: str | None = None
) -> tuple[str, discord.ui.View]:
    selected = filter_lessons(lessons, tag, level)
    content, page, pages = catalogue_page(selected, page, locale, tag=tag, level=level)
    tag_key = (tag or "")[:40]
    view = frozen_view(
        CataloguePage("p", max(page - 1, 0), level or "", tag_key, label=t(locale, "button.prev"), disabled=page == 0),
        CataloguePage("n", min(page + 1, pages - 1), level or "", tag_key, label=t(locale, "button.next"),
                      disabled=page >= pages - 1),
    )  # fmt: skip
    return content, view


def lesson_message(lesson: Lesson, page: int, locale: str) -> tuple[str, discord.ui.View]:
    content, page, pages = lesson_page(lesson, page, locale)
    items: list[discord.ui.Item[Any]] = [
        LessonPage("p", max(page - 1, 0), lesson.id, label=t(locale, "button.prev"), disabled=page == 0),
        LessonPage(
            "n", min(page + 1, pages - 1), lesson.id, label=t(locale, "button.next"), disabled=page >= pages - 1
        ),
    ]
    for i, example in enumerate(lesson.examples[:MAX_RUN_BUTTONS]):
        custom_id = f"cb:run:r:{lesson.id}:{example.id}"
        if len(custom_id) > MAX_CUSTOM_ID:
            log.warning("lesson %s example %s: id too long for a Run button", lesson.id, example.id)
            continue
        items.append(RunButton("r", lesson.id, example.id, label=t(locale, "button.run", example=example.id),
                               row=1 + i // 5))  # fmt: skip
    return content, frozen_view(*items)
