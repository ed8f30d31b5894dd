"""Quiz answer components: stateless (quiz id and question number in the custom_id), so they keep working
for every member and after a restart.  Registered once with `add_dynamic_items`.

custom_id formats:
  cq:c:<quiz>:<question>:<choice>    pick one choice (a choice question, or a predict_time with choices)
  cq:s:<quiz>:<question>             select several choices (multi-answer choice question)
  cq:o:<quiz>:<question>             open the answer modal (text, seconds, or the order of the lines)
  cq:h:<quiz>:<question>             take the next hint (ephemeral; costs points)
The modal (`cqm:<quiz>:<question>:<user>`) lives only while its window is open (plus a grace period).
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.lessons import ChoiceQuestion, PredictOutputQuestion, PredictTimeQuestion, Question
from bot.core.quiz import AnswerValue, QuizError, Submission, answer_key
from bot.discord_app.errors import report_error, send_ephemeral
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.markdown import clip
from bot.discord_app.quiz_render import offered_lines
from bot.discord_app.views.buttons import SafeItem, frozen_view

if TYPE_CHECKING:
    from bot.discord_app.client import CorobotBot
    from bot.discord_app.quizzes import LiveQuiz

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
QID = r"[a-z0-9]+"
NONE = discord.AllowedMentions.none()


def _bot(interaction: Interaction) -> CorobotBot:
    return cast("CorobotBot", interaction.client)


def shown_answer(question: Question, value: AnswerValue, locale: str) -> str:
    if isinstance(question, ChoiceQuestion) and isinstance(value, tuple):
        keys = [c.get() for c in question.choices]
        return " + ".join(question.choices[keys.index(v)].get(locale) for v in value if v in keys)
    return answer_key(question, value)


async def submit(interaction: Interaction, quiz_id: str, index: int, raw: AnswerValue | list[str]) -> None:
    """Answer for the interaction's user and confirm privately (solo: the question message becomes the answer)."""
    service = _bot(interaction).quizzes
    submission: Submission = await service.answer(quiz_id, index, interaction.user.id, raw)
    live = service.live[quiz_id]
    locale = lesson_locale(interaction.locale)
    question = live.game.questions[index]
    shown = clip(shown_answer(question, submission.value, locale), 300)
    if live.solo:
        live.interaction = interaction
        await interaction.response.edit_message(content=t(locale, "quiz.solo_answer", answer=shown), view=None)
        service.wake(live)
        return
    rnd = live.game.current
    closes = int(rnd.closes_at) if rnd is not None else 0
    key = "quiz.changed" if submission.changes else "quiz.recorded"
    await send_ephemeral(interaction, t(locale, key, answer=shown, when=closes))


class _QuizItem(SafeItem):
    quiz_id: str
    index: int


class ChoiceButton(_QuizItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cq:c:(?P<quiz>{QID}):(?P<index>\d+):(?P<choice>\d+)"):  # fmt: skip  # noqa: E501
    def __init__(self, quiz_id: str, index: int, choice: int, *, label: str = "", row: int | None = None) -> None:
        self.quiz_id, self.index, self.choice = quiz_id, index, choice
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip(label, 80) or str(choice + 1), custom_id=f"cq:c:{quiz_id}:{index}:{choice}",
            style=discord.ButtonStyle.primary,
        )  # fmt: skip
        super().__init__(button, row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChoiceButton:
        return cls(match["quiz"], int(match["index"]), int(match["choice"]))

    async def handle(self, interaction: Interaction) -> None:
        live = _bot(interaction).quizzes.get(self.quiz_id, self.index)
        question = live.game.questions[self.index]
        raw: AnswerValue
        if isinstance(question, ChoiceQuestion):
            raw = question.choices[self.choice].get() if self.choice < len(question.choices) else ""
        elif isinstance(question, PredictTimeQuestion) and question.choices:
            raw = question.choices[min(self.choice, len(question.choices) - 1)]
        else:
            raise QuizError("this button does not belong to this question")
        await submit(interaction, self.quiz_id, self.index, raw)


class ChoiceSelect(_QuizItem, discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"cq:s:(?P<quiz>{QID}):(?P<index>\d+)"):  # fmt: skip  # noqa: E501
    def __init__(self, quiz_id: str, index: int, options: list[discord.SelectOption] | None = None,
                 *, placeholder: str = "") -> None:  # fmt: skip
        self.quiz_id, self.index = quiz_id, index
        options = options or [discord.SelectOption(label="-", value="0")]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"cq:s:{quiz_id}:{index}", options=options, min_values=1, max_values=len(options),
            placeholder=placeholder or None,
        )  # fmt: skip
        super().__init__(select, row=0)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChoiceSelect:
        return cls(match["quiz"], int(match["index"]))

    async def handle(self, interaction: Interaction) -> None:
        live = _bot(interaction).quizzes.get(self.quiz_id, self.index)
        question = live.game.questions[self.index]
        if not isinstance(question, ChoiceQuestion):
            raise QuizError("this menu does not belong to this question")
        data: dict[str, Any] = dict(interaction.data or {})
        values = [str(v) for v in data.get("values", [])]
        picked = [question.choices[int(v)].get() for v in values if v.isdigit() and int(v) < len(question.choices)]
        await submit(interaction, self.quiz_id, self.index, picked)


MODAL_ID = re.compile(rf"^cqm:(?P<quiz>{QID}):(?P<index>\d+):\d+$")


class AnswerModal(discord.ui.Modal):
    """The form for order / seconds / text answers.  It is stopped before it is sent, so discord.py keeps no
    state for it: the submission is handled by `on_modal_submit` from its custom_id alone, and a form opened
    before a restart can still be sent after it."""

    def __init__(self, quiz_id: str, index: int, question: Question, locale: str, user_id: int) -> None:
        super().__init__(title=t(locale, "quiz.modal_title", n=index + 1), custom_id=f"cqm:{quiz_id}:{index}:{user_id}")
        if isinstance(question, PredictOutputQuestion):
            label, placeholder = (
                t(locale, "quiz.modal_order"),
                " ".join(str(i + 1) for i in range(len(question.lines()))),
            )
        elif isinstance(question, PredictTimeQuestion):
            label, placeholder = t(locale, "quiz.modal_seconds"), "1.5"
        else:
            label, placeholder = t(locale, "quiz.modal_text"), ""
        self.add_item(
            discord.ui.TextInput(
                label=clip(label, 45), custom_id="answer", placeholder=placeholder[:100] or None, max_length=200
            )
        )
        self.stop()


def parse_modal_answer(question: Question, text: str) -> AnswerValue | list[str]:
    if isinstance(question, PredictOutputQuestion):
        lines = offered_lines(question)
        parts = text.replace(",", " ").split()
        if not parts or not all(p.isdigit() and 1 <= int(p) <= len(lines) for p in parts):
            raise QuizError(f"type the line numbers 1 to {len(lines)} in the order they are printed, e.g. 2 1 3")
        return [lines[int(p) - 1] for p in parts]
    return text


def _modal_value(data: Any) -> str:
    for row in data.get("components", []) if isinstance(data, dict) else []:
        for item in row.get("components", []):
            if item.get("custom_id") == "answer":
                return str(item.get("value") or "")
    return ""


async def on_modal_submit(interaction: Interaction) -> bool:
    """Handle a submitted answer form; False if the interaction is not one of ours."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    data: Any = interaction.data or {}
    match = MODAL_ID.match(str(data.get("custom_id", "")))
    if match is None:
        return False
    try:
        quiz_id, index = match["quiz"], int(match["index"])
        question = _bot(interaction).quizzes.get(quiz_id, index).game.questions[index]
        await submit(interaction, quiz_id, index, parse_modal_answer(question, _modal_value(data)))
    except Exception as exc:
        await report_error(interaction, exc)
    return True


class AnswerButton(_QuizItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cq:o:(?P<quiz>{QID}):(?P<index>\d+)"):  # fmt: skip  # noqa: E501
    def __init__(self, quiz_id: str, index: int, *, label: str = "", row: int | None = None) -> None:
        self.quiz_id, self.index = quiz_id, index
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label or "Answer", custom_id=f"cq:o:{quiz_id}:{index}", style=discord.ButtonStyle.primary
        )
        super().__init__(button, row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnswerButton:
        return cls(match["quiz"], int(match["index"]))

    async def handle(self, interaction: Interaction) -> None:
        live = _bot(interaction).quizzes.get(self.quiz_id, self.index)
        rnd = live.game.current
        if rnd is None or not rnd.is_open(time.time()):
            raise QuizError(t(interaction.locale, "err.window_closed"))
        question = live.game.questions[self.index]
        modal = AnswerModal(self.quiz_id, self.index, question, lesson_locale(interaction.locale), interaction.user.id)
        await interaction.response.send_modal(modal)


class HintButton(_QuizItem, discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"cq:h:(?P<quiz>{QID}):(?P<index>\d+)"):  # fmt: skip  # noqa: E501
    def __init__(self, quiz_id: str, index: int, *, label: str = "", row: int | None = None) -> None:
        self.quiz_id, self.index = quiz_id, index
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label or "Hint", custom_id=f"cq:h:{quiz_id}:{index}", style=discord.ButtonStyle.secondary,
            emoji="💡",
        )  # fmt: skip
        super().__init__(button, row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> HintButton:
        return cls(match["quiz"], int(match["index"]))

    async def handle(self, interaction: Interaction) -> None:
        text, cost, left = _bot(interaction).quizzes.hint(
            self.quiz_id, self.index, interaction.user.id, lesson_locale(interaction.locale)
        )
        await send_ephemeral(interaction, t(interaction.locale, "quiz.hint", text=text, cost=cost, left=left))


QUIZ_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ChoiceButton, ChoiceSelect, AnswerButton, HintButton)


def quiz_components(live: LiveQuiz) -> discord.ui.View | None:
    """The answer controls of `live`'s open question."""
    rnd = live.game.current
    if rnd is None or rnd.closed:
        return None
    question, index, locale = rnd.question, live.game.index, live.locale
    items: list[discord.ui.Item[Any]] = []
    if isinstance(question, ChoiceQuestion) and question.multiple:
        options = [discord.SelectOption(label=clip(c.get(locale), 100), value=str(i))
                   for i, c in enumerate(question.choices[:25])]  # fmt: skip
        items.append(ChoiceSelect(live.id, index, options, placeholder=t(locale, "quiz.select")))
    elif isinstance(question, ChoiceQuestion):
        items.extend(ChoiceButton(live.id, index, i, label=c.get(locale), row=i // 5)
                     for i, c in enumerate(question.choices[:20]))  # fmt: skip
    elif isinstance(question, PredictTimeQuestion) and question.choices:
        items.extend(ChoiceButton(live.id, index, i, label=f"{s:g} s", row=i // 5)
                     for i, s in enumerate(question.choices[:20]))  # fmt: skip
    else:
        items.append(AnswerButton(live.id, index, label=t(locale, "quiz.answer_button"), row=4))
    if question.hints:
        items.append(HintButton(live.id, index, label=t(locale, "quiz.hint_button"), row=4))
    return frozen_view(*items)
