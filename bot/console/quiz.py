"""Quizzes in the terminal: the same questions, scoring and predict-then-run as on Discord.

`ConsoleQuiz(...).play(lesson, count)` asks each question, reads the answer (a number, several numbers, the
lines' numbers in order, seconds, or free text; `hint` takes a hint), reveals the correct answer with its
explanation, and — for a question tied to an example — runs the example and shows the real output and time
next to what was predicted.  Answers and progress go to the same storage as Discord's (guild 0).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable

from rich.console import Console
from rich.text import Text

from bot.console.ports import RunnerPort
from bot.core.errors import RunnerError
from bot.core.lessons import ChoiceQuestion, Lesson, PredictOutputQuestion, PredictTimeQuestion, Question
from bot.core.quiz import AnswerValue, QuestionRound, QuizError, QuizGame, Reveal
from bot.core.record import RunRecord
from bot.core.review.cards import Outcome
from bot.core.review.service import Learning
from bot.core.storage import AnswerRow, Storage
from bot.core.timeline import format_offset

log = logging.getLogger(__name__)

CONSOLE_GUILD = 0
CONSOLE_USER = 0

ReadLine = Callable[[], Awaitable[str | None]]


def offered_lines(question: PredictOutputQuestion, seed: str) -> list[str]:
    """The lines to order, shuffled the same way for everyone (seeded by the question id)."""
    lines = question.lines()
    random.Random(seed).shuffle(lines)
    return lines


def outcomes(rnd: QuestionRound, reveal: Reveal) -> list[Outcome]:
    """A revealed question's answers as review outcomes: right or wrong, how fast, with a hint or not."""
    return [
        Outcome(s.user_id, s.correct, rnd.submissions[s.user_id].at, rnd.duration, bool(rnd.hints_taken.get(s.user_id)))
        for s in reveal.scores
    ]


def correct_text(question: Question, locale: str | None) -> str:
    if isinstance(question, ChoiceQuestion):
        return " + ".join(question.answers())
    if isinstance(question, PredictOutputQuestion):
        return " → ".join(question.answer)
    if isinstance(question, PredictTimeQuestion):
        return f"{question.answer:g} s" + ("" if question.choices else f" (± {question.tolerance:g})")
    return " / ".join(question.answers)


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

    async def play(self, lesson: Lesson, count: int | None = None) -> QuizGame | None:
        questions = list(lesson.quiz)[: count or None]
        if not questions:
            self.console.print(Text(f"{lesson.id} has no quiz questions", style="yellow"))
            return None
        quiz_id = f"console-{lesson.id}-{int(time.time() * 1000)}"
        game = QuizGame(lesson.id, questions, mode="solo")
        self.console.print(Text(f"Quiz: {lesson.title.get(self.locale)} — {len(questions)} question(s)", style="bold"))
        for number in range(1, len(questions) + 1):
            rnd = game.next_question(now=time.time())
            question = rnd.question
            self._ask(number, len(questions), question)
            while True:
                line = await self.readline()
                if line is None:
                    return game
                line = line.strip()
                if line.lower() == "hint":
                    self._hint(rnd, len(rnd.hints_taken.get(CONSOLE_USER, ())))
                    continue
                try:
                    raw = self._parse(question, line)
                    rnd.answer(CONSOLE_USER, raw, now=time.time())
                except QuizError as exc:
                    self.console.print(Text(str(exc), style="red"))
                    continue
                break
            reveal = game.close_current()
            await self._record(quiz_id, question, reveal, rnd.submissions[CONSOLE_USER].value)
            if self.learning is not None:  # every answer becomes a review card
                await self.learning.record_answers(CONSOLE_GUILD, lesson, question, outcomes(rnd, reveal))
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
        if isinstance(question, ChoiceQuestion):
            for i, choice in enumerate(question.choices, start=1):
                self.console.print(f"  {i}. {choice.get(self.locale)}", markup=False, highlight=False)
            how = "numbers separated by spaces" if question.multiple else "a number"
        elif isinstance(question, PredictOutputQuestion):
            for i, text in enumerate(offered_lines(question, question.id), start=1):
                self.console.print(f"  {i}. {text}", markup=False, highlight=False)
            how = "the line numbers in the order they are printed, e.g. 2 1 3"
        elif isinstance(question, PredictTimeQuestion):
            if question.choices:
                for i, seconds in enumerate(question.choices, start=1):
                    self.console.print(f"  {i}. {seconds:g} s")
                how = "a number"
            else:
                how = "seconds, e.g. 1.5"
        else:
            how = "your answer"
        hints = f"; `hint` for a hint ({len(question.hints)} available)" if question.hints else ""
        self.console.print(Text(f"answer with {how}{hints}", style="dim"))

    def _parse(self, question: Question, line: str) -> AnswerValue | list[str]:
        if isinstance(question, ChoiceQuestion):
            keys = [c.get() for c in question.choices]
            return [keys[i] for i in _indexes(line, len(keys))]
        if isinstance(question, PredictOutputQuestion):
            lines = offered_lines(question, question.id)
            return [lines[i] for i in _indexes(line, len(lines))]
        if isinstance(question, PredictTimeQuestion) and question.choices:
            (index,) = _indexes(line, len(question.choices), single=True)
            return question.choices[index]
        return line

    def _hint(self, rnd: QuestionRound, taken: int) -> None:
        try:
            rnd.take_hint(CONSOLE_USER, taken, now=time.time())
        except QuizError as exc:
            self.console.print(Text(str(exc), style="yellow"))
            return
        hint = rnd.question.hints[taken]
        self.console.print(Text(f"hint (−{hint.cost}): {hint.text.get(self.locale)}", style="yellow"))

    async def _record(self, quiz_id: str, question: Question, reveal: Reveal, value: AnswerValue) -> None:
        if self.storage is None:
            return
        answer = list(value) if isinstance(value, tuple) else value
        await self.storage.record_answer(
            CONSOLE_GUILD, AnswerRow(quiz_id, question.id, CONSOLE_USER, answer, time.time())
        )
        await self.storage.score_answers(quiz_id, question.id, {s.user_id: (s.correct, s.total) for s in reveal.scores})

    def _reveal(self, reveal: Reveal) -> None:
        score = reveal.scores[0] if reveal.scores else None
        if score is not None and score.correct:
            self.console.print(Text(f"✔ correct  +{score.total}", style="bold green"))
        else:
            self.console.print(Text("✘ not quite", style="bold red"))
        self.console.print(Text("answer: ", style="bold"), Text(correct_text(reveal.question, self.locale)))
        self.console.print(Text(reveal.question.explanation.get(self.locale), style="italic"))

    async def _predict_then_run(self, lesson: Lesson, question: Question) -> None:
        example = lesson.example(question.example)
        if example is None:
            return
        self.console.print(Text(f"running {lesson.id}/{example.id} to check…", style="dim"))
        record = RunRecord(f"{example.id}.py")
        try:
            async for event in self.runner.run(example.code, name=record.name, timeout=example.timeout):
                record.add(event)
        except RunnerError as exc:
            self.console.print(Text(f"could not run it: {exc}", style="red"))
            return
        for line in record.lines:
            if line.stream == "stdout":
                self.console.print(f"  {format_offset(line.t)}  {line.text}", markup=False, highlight=False)
        if record.finished is not None:
            done = record.finished
            self.console.print(Text(f"  real time: {done.elapsed:.3f} s ({done.status})", style="bold"))

    def _scoreboard(self, game: QuizGame) -> None:
        board = game.scoreboard()
        points, right, answered = (board[0][1], board[0][2], board[0][3]) if board else (0, 0, 0)
        self.console.print()
        self.console.print(Text(f"score: {points} points, {right}/{answered} correct", style="bold"))


def _indexes(line: str, size: int, *, single: bool = False) -> list[int]:
    parts = line.replace(",", " ").split()
    if not parts or not all(p.isdigit() and 1 <= int(p) <= size for p in parts):
        raise QuizError(f"answer with number(s) from 1 to {size}")
    if single and len(parts) != 1:
        raise QuizError("answer with one number")
    return [int(p) - 1 for p in parts]
