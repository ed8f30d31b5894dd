"""The console's `review`, `path`, `streak`, `timezone` and `forget-me` commands, over `bot.core.review`.

`review` asks the learner's due cards the way `quiz` asks questions (the same prompts, answer parsing and,
for a question about an example, the real run after the answer: `ConsoleQuiz`'s pieces), then says when
each card comes back.  The console's learner is guild 0, user 0, like its quizzes and runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from bot.console.quiz import CONSOLE_GUILD, CONSOLE_USER, ConsoleQuiz, ReadLine, correct_text
from bot.core.errors import UnknownTimezone
from bot.core.lessons import Hint
from bot.core.quiz import QuizError
from bot.core.review.path import LearnerPath, LessonStanding, Recommendation
from bot.core.review.service import Learning

log = logging.getLogger(__name__)

_MARK = {"done": ("✔", "green"), "in_progress": ("▶", "yellow"), "available": ("·", ""), "locked": ("×", "dim")}


def until(seconds: float) -> str:
    """'now', 'in 10 minutes', 'in 5 hours', 'in 3 days'."""
    if seconds < 60:
        return "now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            count = round(seconds / size)
            return f"in {count} {unit}{'s' if count != 1 else ''}"
    return "now"


def standing_text(standing: LessonStanding) -> str:
    parts = [standing.status.replace("_", " ")]
    if standing.status == "in_progress":
        parts.append(f"examples run {standing.examples_run}/{standing.examples}")
        if standing.questions:
            parts.append(f"questions right {standing.right}/{standing.questions}")
    if standing.status == "locked":
        parts.append(f"needs {', '.join(standing.missing)}")
    return "; ".join(parts)


def reasons_text(next_lesson: Recommendation) -> str:
    reasons = []
    if next_lesson.started:
        reasons.append("you started it")
    if next_lesson.prerequisites:
        reasons.append(f"its prerequisites are done ({', '.join(next_lesson.prerequisites)})")
    else:
        reasons.append("it needs nothing before it")
    if next_lesson.weakest_topic is not None and next_lesson.topic_mastery is not None:
        share = f"{next_lesson.topic_mastery:.0%}"
        reasons.append(f"it is about your weakest topic, {next_lesson.weakest_topic} ({share} right)")
    return "; ".join(reasons)


class ConsoleLearning:
    def __init__(self, console: Console, readline: ReadLine, quiz: ConsoleQuiz, learning: Learning) -> None:
        self.console = console
        self.readline = readline
        self.quiz = quiz
        self.learning = learning

    def _say(self, text: str, style: str = "") -> None:
        self.console.print(Text(text, style=style))

    async def review(self, count: str) -> None:
        if count and not count.isdigit():
            self._say("COUNT must be a whole number, e.g. `review 5`", "red")
            return
        items = await self.learning.due(CONSOLE_GUILD, CONSOLE_USER, int(count) if count else None)
        if not items:
            now = self.learning.clock()
            _, upcoming = await self.learning.storage.review_load(CONSOLE_GUILD, CONSOLE_USER, now)
            if upcoming is None:
                self._say("nothing to review yet: every quiz question you answer becomes a review card")
            else:
                self._say(f"nothing to review now; the next card is due {until(upcoming - now)}")
            return
        self._say(f"Review: {len(items)} card(s) due", "bold")
        right = 0
        for number, item in enumerate(items, start=1):
            self.console.print()
            self._say(f"[{item.lesson.id}]", "dim")
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
                    raw = self.quiz._parse(item.question, line)
                    seconds = time.monotonic() - shown
                    result = await self.learning.answer(
                        CONSOLE_GUILD, CONSOLE_USER, item.lesson.id, item.question.id, raw, seconds, hinted=hints > 0
                    )
                except QuizError as exc:
                    self._say(str(exc), "red")
                    continue
                break
            right += result.correct
            self._say("✔ correct" if result.correct else "✘ not quite", "bold green" if result.correct else "bold red")
            self.console.print(Text("answer: ", style="bold"), Text(correct_text(item.question, self.quiz.locale)))
            self._say(item.question.explanation.get(self.quiz.locale), "italic")
            self._say(f"comes back {until(result.card.due - self.learning.clock())}", "dim")
            for lesson_id in result.newly_done:
                self._say(f"lesson done: {lesson_id}", "bold green")
            if item.question.example is not None:
                await self.quiz._predict_then_run(item.lesson, item.question)
        self.console.print()
        self._say(f"reviewed {len(items)}, {right} right", "bold")

    def _hint(self, hints: Sequence[Hint], taken: int) -> int:
        if taken >= len(hints):
            self._say("no more hints" if hints else "this question has no hints", "yellow")
            return taken
        self._say(f"hint: {hints[taken].text.get(self.quiz.locale)}", "yellow")
        return taken + 1

    async def path(self) -> None:
        path = await self.learning.path(CONSOLE_GUILD, CONSOLE_USER)
        self.print_path(path)

    def print_path(self, path: LearnerPath) -> None:
        mastery = f"{self.learning.settings.mastery:.0%}"
        done = f"your path: {path.done} of {len(path.lessons)} lessons done"
        self._say(f"{done} (a lesson is done when its examples were run and {mastery} of its questions answered right)")
        width = max((len(s.lesson_id) for s in path.lessons), default=0)
        for standing in path.lessons:
            mark, style = _MARK[standing.status]
            line = Text(f"  {mark} ", style=style)
            line.append(standing.lesson_id.ljust(width), style="bold" if standing.status == "in_progress" else "")
            line.append(f"  {standing_text(standing)}", style="dim")
            self.console.print(line)
        if path.next is None:
            self._say("every lesson is done: keep your reviews going (`review`)", "bold green")
            return
        line = Text("next: ", style="bold")
        line.append(path.next.lesson_id, style="bold cyan")
        line.append(f" — {reasons_text(path.next)}")
        self.console.print(line)
        if path.topics:
            weakest = ", ".join(f"{topic} {share:.0%}" for topic, share in list(path.topics.items())[:3])
            self._say(f"weakest topics: {weakest}", "dim")

    async def streak(self) -> None:
        summary = await self.learning.summary(CONSOLE_GUILD, CONSOLE_USER)
        days = summary.streak
        today = "today counted" if days.today else "nothing yet today"
        self._say(f"streak: {days.current} day(s) ({today}); best {days.best}; time zone {summary.timezone}")
        later = "" if summary.next_due is None else f", next {until(summary.next_due - self.learning.clock())}"
        self._say(f"reviews due: {summary.due}{later}", "dim")

    async def timezone(self, name: str) -> None:
        if not name:
            zone = await self.learning.timezone(CONSOLE_USER)
            self._say(f"time zone: {zone} (set one with `timezone Asia/Shanghai` or `timezone UTC+8`)")
            return
        try:
            saved = await self.learning.set_timezone(CONSOLE_USER, name)
        except UnknownTimezone as exc:
            self._say(str(exc), "red")
            return
        self._say(f"time zone set to {saved}: your days and streak follow it")

    async def forget_me(self) -> None:
        what = "runs, answers, review cards, lessons done, streak days, time zone"
        self._say(f"This deletes everything corobot stored about you here: {what}. Type `yes` to confirm.", "yellow")
        answer = await self.readline()
        if answer is None or answer.strip().lower() != "yes":
            self._say("kept everything")
            return
        removed = await self.learning.forget(CONSOLE_USER)
        self._say(f"forgotten: {sum(removed.values())} record(s) deleted")
