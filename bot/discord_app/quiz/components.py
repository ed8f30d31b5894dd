"""The quiz's answer controls, stateless (quiz id and question number in the custom id; see `components.py`):

    cq:c:<quiz>:<question>:<choice>     pick one choice (a choice question, or a predict_time with choices)
    cq:s:<quiz>:<question>              select several choices (a multi-answer choice question)
    cq:o:<quiz>:<question>              open the answer form (text, seconds, or the order of the lines)
    cq:h:<quiz>:<question>              take the next hint (private; costs points)
    cqm:<quiz>:<question>:<member>      the answer form itself

The form is stopped before it is sent, so discord.py keeps nothing for it: every submission, including one
of a form opened before a restart, is handled by `submit_form` from its custom id alone.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.lessons import ChoiceQuestion, PredictOutputQuestion, Question
from bot.core.quiz import (
    AnswerValue,
    AnswerWay,
    InvalidAnswer,
    WindowClosed,
    answer_text,
    answer_way,
    choice_at,
    lines_in_order,
    offered,
)
from bot.discord_app.components import Handled, frozen_view
from bot.discord_app.context import Interaction, services_of
from bot.discord_app.errors import report_error, send_ephemeral
from bot.discord_app.i18n import lesson_locale, t
from bot.discord_app.markdown import clip, inline_code
from bot.discord_app.quiz.service import LiveQuiz, QuizService

if TYPE_CHECKING:
    from discord.types.interactions import ModalSubmitInteractionData

QID = r"[a-z0-9]+"
CHOICE = rf"cq:c:(?P<quiz>{QID}):(?P<index>\d+):(?P<choice>\d+)"
SELECT = rf"cq:s:(?P<quiz>{QID}):(?P<index>\d+)"
OPEN = rf"cq:o:(?P<quiz>{QID}):(?P<index>\d+)"
HINT = rf"cq:h:(?P<quiz>{QID}):(?P<index>\d+)"
FORM = re.compile(rf"cqm:(?P<quiz>{QID}):(?P<index>\d+):(?P<member>\d+)")
MAX_BUTTONS = 20
FORM_LABELS = {AnswerWay.ORDER: "quiz.form_order", AnswerWay.SECONDS: "quiz.form_seconds"}
MAX_OPTIONS = 25


def quizzes(interaction: Interaction) -> QuizService:
    return services_of(interaction.client).get(QuizService)


async def submit(interaction: Interaction, quiz_id: str, index: int, raw: AnswerValue | list[str]) -> None:
    """Answer for the interaction's member and confirm privately (solo: the question becomes the answer)."""
    service = quizzes(interaction)
    submission = await service.answer(quiz_id, index, interaction.user.id, raw)
    live = service.live[quiz_id]
    locale = lesson_locale(interaction.locale)
    shown = inline_code(answer_text(live.game.questions[index], submission.value, locale), 300)
    if live.solo:
        live.interaction = interaction
        await interaction.response.edit_message(content=t(locale, "quiz.solo_answer", answer=shown), view=None)
        service.wake(live)
        return
    rnd = live.game.current
    closes = int(rnd.closes_at) if rnd is not None else 0
    key = "quiz.changed" if submission.changes else "quiz.recorded"
    await send_ephemeral(interaction, t(locale, key, answer=shown, when=closes))


class ChoiceButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=CHOICE):
    def __init__(self, quiz_id: str, index: int, choice: int, *, label: str = "", row: int | None = None) -> None:
        self.quiz_id, self.index, self.choice = quiz_id, index, choice
        custom_id = f"cq:c:{quiz_id}:{index}:{choice}"
        label = clip(label, 80) or str(choice + 1)
        super().__init__(
            discord.ui.Button(label=label, custom_id=custom_id, style=discord.ButtonStyle.primary), row=row
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChoiceButton:
        return cls(match["quiz"], int(match["index"]), int(match["choice"]))

    async def handle(self, interaction: Interaction) -> None:
        question = quizzes(interaction).question(self.quiz_id, self.index)
        await submit(interaction, self.quiz_id, self.index, choice_at(question, self.choice))


class ChoiceSelect(Handled, discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT):
    def __init__(self, quiz_id: str, index: int, options: list[discord.SelectOption] | None = None) -> None:
        self.quiz_id, self.index = quiz_id, index
        options = options or [discord.SelectOption(label="-", value="0")]
        custom_id = f"cq:s:{quiz_id}:{index}"
        select = discord.ui.Select[Any](custom_id=custom_id, options=options, min_values=1, max_values=len(options))
        super().__init__(select, row=0)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ChoiceSelect:
        return cls(match["quiz"], int(match["index"]))

    async def handle(self, interaction: Interaction) -> None:
        question = quizzes(interaction).question(self.quiz_id, self.index)
        if not isinstance(question, ChoiceQuestion):
            raise InvalidAnswer("quiz.answer.not_choices")
        picked = [choice_at(question, int(v)) for v in self.item.values if v.isdigit()]
        await submit(interaction, self.quiz_id, self.index, [str(p) for p in picked])


class AnswerForm(discord.ui.Modal):
    """The form for order / seconds / text answers (see the module docstring for its life)."""

    def __init__(self, quiz_id: str, index: int, question: Question, locale: str, member: int) -> None:
        super().__init__(title=t(locale, "quiz.form_title", n=index + 1), custom_id=f"cqm:{quiz_id}:{index}:{member}")
        self.quiz_id, self.index, self.question = quiz_id, index, question
        way = answer_way(question)
        label = t(locale, FORM_LABELS.get(way, "quiz.form_text"))
        placeholder = {
            AnswerWay.ORDER: " ".join(str(i) for i in range(1, len(offered(question)) + 1)),
            AnswerWay.SECONDS: "1.5",
        }.get(way, "")
        self.answer: discord.ui.TextInput[AnswerForm] = discord.ui.TextInput(
            label=clip(label, 45), custom_id="answer", placeholder=placeholder[:100] or None, max_length=200
        )
        self.add_item(self.answer)
        self.stop()

    async def on_submit(self, interaction: Interaction) -> None:
        text, question = self.answer.value, self.question
        raw = lines_in_order(question, text) if isinstance(question, PredictOutputQuestion) else text
        await submit(interaction, self.quiz_id, self.index, raw)


async def submit_form(interaction: Interaction) -> bool:
    """Handle a submitted answer form (opened before or after a restart); False if it is not one of ours."""
    if interaction.type is not discord.InteractionType.modal_submit or interaction.data is None:
        return False
    data = cast("ModalSubmitInteractionData", interaction.data)  # what a modal_submit interaction carries
    match = FORM.fullmatch(data["custom_id"])
    if match is None:
        return False
    quiz_id, index = match["quiz"], int(match["index"])
    try:
        question = quizzes(interaction).question(quiz_id, index)
        form = AnswerForm(quiz_id, index, question, lesson_locale(interaction.locale), interaction.user.id)
        # discord.py fills a form's inputs with `_refresh` when it dispatches a form it kept; this one it did
        # not keep (it may come from before a restart), so the submission is handed to the same method.
        form._refresh(interaction, data["components"], {})
        await form.on_submit(interaction)
    except Exception as exc:
        await report_error(interaction, exc)
    return True


class AnswerButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=OPEN):
    def __init__(self, quiz_id: str, index: int, *, label: str = "", row: int | None = None) -> None:
        self.quiz_id, self.index = quiz_id, index
        custom_id = f"cq:o:{quiz_id}:{index}"
        button = discord.ui.Button[Any](label=label or None, custom_id=custom_id, style=discord.ButtonStyle.primary)
        super().__init__(button, row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnswerButton:
        return cls(match["quiz"], int(match["index"]))

    async def handle(self, interaction: Interaction) -> None:
        live = quizzes(interaction).get(self.quiz_id, self.index)
        rnd = live.game.current
        if rnd is None or not rnd.is_open(time.time()):
            raise WindowClosed()
        question = live.game.questions[self.index]
        locale = lesson_locale(interaction.locale)
        await interaction.response.send_modal(
            AnswerForm(self.quiz_id, self.index, question, locale, interaction.user.id)
        )


class HintButton(Handled, discord.ui.DynamicItem[discord.ui.Button[Any]], template=HINT):
    def __init__(self, quiz_id: str, index: int, *, label: str = "", row: int | None = None) -> None:
        self.quiz_id, self.index = quiz_id, index
        custom_id = f"cq:h:{quiz_id}:{index}"
        style = discord.ButtonStyle.secondary
        super().__init__(discord.ui.Button(label=label or None, custom_id=custom_id, style=style, emoji="💡"), row=row)

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> HintButton:
        return cls(match["quiz"], int(match["index"]))

    async def handle(self, interaction: Interaction) -> None:
        locale = lesson_locale(interaction.locale)
        text, cost, left = quizzes(interaction).hint(self.quiz_id, self.index, interaction.user.id, locale)
        await send_ephemeral(interaction, t(locale, "quiz.hint", text=text, cost=cost, count=left))


ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ChoiceButton, ChoiceSelect, AnswerButton, HintButton)


def quiz_controls(live: LiveQuiz) -> discord.ui.View | None:
    """The answer controls of `live`'s open question."""
    rnd = live.game.current
    if rnd is None or rnd.closed:
        return None
    question, index, locale = rnd.question, live.game.index, live.locale
    way, choices = answer_way(question), offered(question, locale)
    items: list[discord.ui.Item[Any]] = []
    if way is AnswerWay.PICK_SEVERAL:
        options = [discord.SelectOption(label=clip(c, 100), value=str(i)) for i, c in enumerate(choices[:MAX_OPTIONS])]
        select = ChoiceSelect(live.id, index, options)
        select.item.placeholder = t(locale, "quiz.select")
        items.append(select)
    elif way is AnswerWay.PICK_ONE:
        items.extend(ChoiceButton(live.id, index, i, label=c, row=i // 5) for i, c in enumerate(choices[:MAX_BUTTONS]))
    else:
        items.append(AnswerButton(live.id, index, label=t(locale, "quiz.answer_button"), row=4))
    if question.hints:
        items.append(HintButton(live.id, index, label=t(locale, "quiz.hint_button"), row=4))
    return frozen_view(*items)
