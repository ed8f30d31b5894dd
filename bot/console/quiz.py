"""Quizzes in the terminal: the same questions, scoring and predict-then-run as on Discord.

`ConsoleQuiz(...).play(lesson, count)` asks each question, reads the answer (a number, several numbers, the
lines' numbers in order, seconds, or free text; `hint` takes a hint), reveals the correct answer with its
explanation, and — for a question tied to an example — runs the example and shows the real output and time
next to what was predicted.  Answers and progress go to the same storage as Discord's (guild 0).  The quiz's
rules (which lines are offered, in what order; the right answer; parsing numbers) are the core's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.text import Text

from bot.console.ports import RunnerPort
from bot.core.errors import RunnerError
from bot.core.lessons import Lesson, PredictOutputQuestion, Question
from bot.core.quiz import (
    AnswerValue,
    AnswerWay,
    QuestionRound,
    QuizError,
    QuizGame,
    Reveal,
    answer_way,
    choice_at,
    correct_text,
    lines_in_order,
    offered,
    parse_numbers,
)
from bot.core.record import record_run
from bot.core.review.cards import quiz_outcomes
from bot.core.review.service import Learning
from bot.core.storage import AnswerRow, Storage
from bot.core.timeline import format_offset
from bot.locales import t
from bot.locales.wording import error_text

CONSOLE_GUILD = 0
CONSOLE_USER = 0
HINT_WORD = "hint"

ReadLine = Callable[[], Awaitable[str | None]]


HOW_TO_ANSWER = {
    AnswerWay.PICK_ONE: "console.quiz.how_number",
    AnswerWay.PICK_SEVERAL: "console.quiz.how_numbers",
    AnswerWay.ORDER: "console.quiz.how_order",
    AnswerWay.SECONDS: "console.quiz.how_seconds",
    AnswerWay.TEXT: "console.quiz.how_text",
}


def parse_answer(question: Question, line: str) -> AnswerValue | list[str]:
    """What a typed line answers: what is offered by its numbers, anything else as typed."""
    way = answer_way(question)
    if way is AnswerWay.ORDER and isinstance(question, PredictOutputQuestion):
        return lines_in_order(question, line)
    if way is AnswerWay.PICK_SEVERAL:
        return [str(choice_at(question, i)) for i in parse_numbers(line, len(offered(question)))]
    if way is AnswerWay.PICK_ONE:
        (index,) = parse_numbers(line, len(offered(question)), single=True)
        return choice_at(question, index)
    return line


class ConsoleQuiz:
    def __init__(
        self,
        console: Console,
        readline: ReadLine,
        runner: RunnerPort,
        storage: Storage | None,
        locale: str | None,
        learning: Learning | None = None,
    ) -> None:
        self.console = console
        self.readline = readline
        self.runner = runner
        self.storage = storage
        self.locale = locale
        self.learning = learning

    def say(self, msgid: str, style: str = "", **params: object) -> None:
        self.console.print(Text(t(self.locale, msgid, **params), style=style))

    async def play(self, lesson: Lesson, count: int | None = None) -> QuizGame | None:
        questions = list(lesson.quiz)[: count or None]
        if not questions:
            self.say("console.quiz.none", "yellow", lesson=lesson.id)
            return None
        quiz_id = f"console-{lesson.id}-{int(time.time() * 1000)}"
        game = QuizGame(lesson.id, questions, mode="solo")
        self.say("console.quiz.title", "bold", title=lesson.title.get(self.locale), count=len(questions))
        for number in range(1, len(questions) + 1):
            rnd = game.next_question(now=time.time())
            question = rnd.question
            self._ask(number, len(questions), question)
            while True:
                line = await self.readline()
                if line is None:
                    return game
                line = line.strip()
                if line.lower() == HINT_WORD:
                    self._hint(rnd, len(rnd.hints_taken.get(CONSOLE_USER, ())))
                    continue
                try:
                    rnd.answer(CONSOLE_USER, parse_answer(question, line), now=time.time())
                except QuizError as exc:
                    self.console.print(Text(error_text(exc, self.locale, repr), style="red"))
                    continue
                break
            reveal = game.close_current()
            await self._record(quiz_id, question, reveal, rnd.submissions[CONSOLE_USER].value)
            if self.learning is not None:  # every answer becomes a review card
                await self.learning.record_answers(CONSOLE_GUILD, lesson, question, quiz_outcomes(rnd, reveal))
            self._reveal(reveal)
            if question.example is not None:
                await self._predict_then_run(lesson, question)
        self._scoreboard(game)
        if self.storage is not None:
            await self.storage.mark_lesson(CONSOLE_GUILD, CONSOLE_USER, lesson.id, completed=True)
        return game

    def _ask(self, number: int, total: int, question: Question) -> None:
        self.console.print()
        self.console.print(Text(f"Q{number}/{total}  ", style="bold cyan"), Text(question.prompt.get(self.locale)))
        for i, text in enumerate(offered(question, self.locale), start=1):
            self.console.print(f"  {i}. {text}", markup=False, highlight=False)
        how = t(self.locale, HOW_TO_ANSWER[answer_way(question)])
        hints = t(self.locale, "console.quiz.hints", count=len(question.hints)) if question.hints else ""
        self.say("console.quiz.answer_with", "dim", how=how, hints=hints)

    def _hint(self, rnd: QuestionRound, taken: int) -> None:
        try:
            rnd.take_hint(CONSOLE_USER, taken, now=time.time())
        except QuizError as exc:
            self.console.print(Text(error_text(exc, self.locale, repr), style="yellow"))
            return
        hint = rnd.question.hints[taken]
        self.say("console.quiz.hint", "yellow", cost=hint.cost, text=hint.text.get(self.locale))

    async def _record(self, quiz_id: str, question: Question, reveal: Reveal, value: AnswerValue) -> None:
        if self.storage is None:
            return
        answer = list(value) if isinstance(value, tuple) else value
        row = AnswerRow(quiz_id, question.id, CONSOLE_USER, answer, time.time())
        await self.storage.record_answer(CONSOLE_GUILD, row)
        await self.storage.score_answers(quiz_id, question.id, {s.user_id: (s.correct, s.total) for s in reveal.scores})

    def _reveal(self, reveal: Reveal) -> None:
        score = reveal.scores[0] if reveal.scores else None
        if score is not None and score.correct:
            self.say("console.quiz.correct", "bold green", points=score.total)
        else:
            self.say("console.quiz.wrong", "bold red")
        answer = correct_text(reveal.question, self.locale)
        self.console.print(Text(t(self.locale, "console.quiz.answer"), style="bold"), Text(answer))
        self.console.print(Text(reveal.question.explanation.get(self.locale), style="italic"))

    async def _predict_then_run(self, lesson: Lesson, question: Question) -> None:
        example = lesson.example(question.example)
        if example is None:
            return
        self.say("console.quiz.running", "dim", ref=f"{lesson.id}/{example.id}")
        try:
            record = await record_run(self.runner, example)
        except RunnerError as exc:
            self.say("console.quiz.run_failed", "red", error=error_text(exc, self.locale, repr))
            return
        for line in record.lines:
            if line.stream == "stdout":
                self.console.print(f"  {format_offset(line.t)}  {line.text}", markup=False, highlight=False)
        if record.finished is not None:
            done = record.finished
            self.say("console.quiz.real_time", "bold", elapsed=done.elapsed, status=done.status.value)

    def _scoreboard(self, game: QuizGame) -> None:
        board = game.scoreboard()
        points, right, answered = (board[0][1], board[0][2], board[0][3]) if board else (0, 0, 0)
        self.console.print()
        self.say("console.quiz.score", "bold", points=points, right=right, of=answered)
