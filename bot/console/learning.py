"""The console's `review`, `path`, `streak`, `timezone` and `forget-me` commands, over `bot.core.review`.

`review` asks the learner's due cards the way `quiz` asks questions (the same prompts, answer parsing and,
for a question about an example, the real run after the answer: `ConsoleQuiz`'s pieces), then says when
each card comes back.  The console's learner is guild 0, user 0, like its quizzes and runs.  Every text
comes from the catalog (`bot/locales`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from bot.console.quiz import CONSOLE_GUILD, CONSOLE_USER, ConsoleQuiz, ReadLine, parse_answer
from bot.core.errors import UnknownTimezone
from bot.core.lessons import Hint
from bot.core.quiz import QuizError, correct_text
from bot.core.review.path import LearnerPath, LessonStanding
from bot.core.review.service import Learning
from bot.locales import t
from bot.locales.wording import error_text, path_reasons, until

MARKS = {"done": ("✔", "green"), "in_progress": ("▶", "yellow"), "available": ("·", ""), "locked": ("×", "dim")}
STATUS_TEXT = {
    "done": "console.path.done",
    "in_progress": "console.path.in_progress",
    "available": "console.path.available",
}
CONFIRM = "yes"


class ConsoleLearning:
    def __init__(self, console: Console, readline: ReadLine, quiz: ConsoleQuiz, learning: Learning) -> None:
        self.console = console
        self.readline = readline
        self.quiz = quiz
        self.learning = learning
        self.locale = quiz.locale

    def say(self, msgid: str, style: str = "", **params: object) -> None:
        self.console.print(Text(t(self.locale, msgid, **params), style=style))

    def _when(self, at: float) -> str:
        return until(at - self.learning.clock(), self.locale)

    async def review(self, count: str) -> None:
        if count and not count.isdigit():
            self.say("console.review.count", "red")
            return
        items = await self.learning.due(CONSOLE_GUILD, CONSOLE_USER, int(count) if count else None)
        if not items:
            _, upcoming = await self.learning.storage.review_load(CONSOLE_GUILD, CONSOLE_USER, self.learning.clock())
            if upcoming is None:
                self.say("console.review.none_yet")
            else:
                self.say("console.review.none_now", when=self._when(upcoming))
            return
        self.say("console.review.title", "bold", count=len(items))
        right = 0
        for number, item in enumerate(items, start=1):
            self.console.print()
            self.console.print(Text(f"[{item.lesson.id}]", style="dim"))
            self.quiz._ask(number, len(items), item.question)
            shown, hints = time.monotonic(), 0
            while True:
                line = await self.readline()
                if line is None:
                    return
                line = line.strip()
                if line.lower() == "hint":
                    hints = self._hint(item.question.hints, hints)
                    continue
                try:
                    raw = parse_answer(item.question, line)
                    seconds = time.monotonic() - shown
                    result = await self.learning.answer(
                        CONSOLE_GUILD, CONSOLE_USER, item.lesson.id, item.question.id, raw, seconds, hinted=hints > 0
                    )
                except QuizError as exc:
                    self.console.print(Text(error_text(exc, self.locale, repr), style="red"))
                    continue
                break
            right += result.correct
            if result.correct:
                self.say("console.review.correct", "bold green")
            else:
                self.say("console.quiz.wrong", "bold red")
            answer = correct_text(item.question, self.locale)
            self.console.print(Text(t(self.locale, "console.quiz.answer"), style="bold"), Text(answer))
            self.console.print(Text(item.question.explanation.get(self.locale), style="italic"))
            self.say("console.review.comes_back", "dim", when=self._when(result.card.due))
            for lesson_id in result.newly_done:
                self.say("console.review.lesson_done", "bold green", lesson=lesson_id)
            if item.question.example is not None:
                await self.quiz._predict_then_run(item.lesson, item.question)
        self.console.print()
        self.say("console.review.summary", "bold", count=len(items), right=right)

    def _hint(self, hints: Sequence[Hint], taken: int) -> int:
        if taken >= len(hints):
            self.say("console.review.no_more_hints" if hints else "console.review.no_hints", "yellow")
            return taken
        self.say("console.review.hint", "yellow", text=hints[taken].text.get(self.locale))
        return taken + 1

    async def path(self) -> None:
        self.print_path(await self.learning.path(CONSOLE_GUILD, CONSOLE_USER))

    def _standing(self, standing: LessonStanding) -> str:
        if standing.status == "locked":
            return t(self.locale, "console.path.locked", lessons=", ".join(standing.missing))
        parts = [t(self.locale, STATUS_TEXT[standing.status])]
        if standing.status == "in_progress":
            parts.append(t(self.locale, "console.path.examples", run=standing.examples_run, total=standing.examples))
            if standing.questions:
                parts.append(t(self.locale, "console.path.questions", right=standing.right, total=standing.questions))
        return "; ".join(parts)

    def print_path(self, path: LearnerPath) -> None:
        mastery = f"{self.learning.settings.mastery:.0%}"
        self.say("console.path.title", "bold", done=path.done, total=len(path.lessons), mastery=mastery)
        width = max((len(s.lesson_id) for s in path.lessons), default=0)
        for standing in path.lessons:
            mark, style = MARKS[standing.status]
            line = Text(f"  {mark} ", style=style)
            line.append(standing.lesson_id.ljust(width), style="bold" if standing.status == "in_progress" else "")
            line.append(f"  {self._standing(standing)}", style="dim")
            self.console.print(line)
        if path.next is None:
            self.say("console.path.all_done", "bold green")
            return
        self.say("console.path.next", "bold", lesson=path.next.lesson_id, reasons=path_reasons(path.next, self.locale))
        if path.topics:
            weakest = ", ".join(f"{topic} {share:.0%}" for topic, share in list(path.topics.items())[:3])
            self.say("console.path.weakest", "dim", topics=weakest)

    async def streak(self) -> None:
        summary = await self.learning.summary(CONSOLE_GUILD, CONSOLE_USER)
        days = summary.streak
        today = t(self.locale, "console.streak.today" if days.today else "console.streak.not_today")
        self.say("console.streak", count=days.current, today=today, best=days.best, zone=summary.timezone)
        if summary.next_due is None:
            self.say("console.streak.due", "dim", due=summary.due)
        else:
            self.say("console.streak.due_next", "dim", due=summary.due, when=self._when(summary.next_due))

    async def timezone(self, name: str) -> None:
        if not name:
            self.say("console.timezone.show", zone=await self.learning.timezone(CONSOLE_USER))
            return
        try:
            saved = await self.learning.set_timezone(CONSOLE_USER, name)
        except UnknownTimezone as exc:
            self.console.print(Text(error_text(exc, self.locale, repr), style="red"))
            return
        self.say("console.timezone.set", zone=saved)

    async def forget_me(self) -> None:
        self.say("console.forget.confirm", "yellow")
        answer = await self.readline()
        if answer is None or answer.strip().lower() != CONFIRM:
            self.say("console.forget.kept")
            return
        removed = await self.learning.forget(CONSOLE_USER)
        self.say("console.forget.done", count=sum(removed.values()))
