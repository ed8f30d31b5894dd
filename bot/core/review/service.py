"""`Learning`: what the front-ends call for spaced review, the path, streaks, reminders, recaps and /forget-me.

Built once in `bot/__main__.py` over the storage and the catalog.  Every quiz answer goes through
`record_answers` (the console's quiz and Discord's quizzes and study sessions call it when a question is
revealed), so each question a learner answers becomes a review card; `answer` is a review's answer.  Time is
the injected `clock` (unix seconds), so tests run on a fixed clock.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.core.errors import UnknownLesson
from bot.core.lessons import Lesson, Question
from bot.core.quiz import AnswerValue, QuizError, coerce_answer, is_correct
from bot.core.review.cards import Outcome, Schedule, ScheduleSettings, content_hash, rating_for
from bot.core.review.path import LearnerPath, build_path, meets_mastery
from bot.core.review.streaks import Streak, local_day, parse_timezone, streak, zone
from bot.core.storage import CardResult, CardRow, QuestionRef, RecapData, ReminderCandidate, ReviewLogRow, Storage
from bot.core.storage import ReviewSource as Source

log = logging.getLogger(__name__)

WEEK = 7 * 86400
DAY = 86400


class Lessons(Protocol):
    """What the service needs of `bot.core.catalog.Catalog`."""

    def lessons(self) -> list[Lesson]: ...

    def get(self, lesson_id: str) -> Lesson: ...


@dataclass(frozen=True, slots=True)
class LearningSettings:
    mastery: float = 0.8  # share of a lesson's questions answered right (latest answer) for it to be done
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    session_size: int = 10  # cards per /review
    reminder_hour: int = 18  # local hour from which the day's reminder may be sent
    log_days: int | None = 365  # days the answer log is kept (recaps read the last week); None: until forget-me


@dataclass(frozen=True, slots=True)
class DueItem:
    lesson: Lesson
    question: Question
    card: CardRow


@dataclass(frozen=True, slots=True)
class ReviewAnswer:
    correct: bool
    rating: int
    card: CardRow  # after the answer: `card.due` is when it comes back
    newly_done: list[str]


@dataclass(frozen=True, slots=True)
class Summary:
    """A learner at a glance: /progress's card."""

    path: LearnerPath
    streak: Streak
    due: int
    next_due: float | None
    timezone: str


class Learning:
    def __init__(
        self,
        storage: Storage,
        lessons: Lessons,
        settings: LearningSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.storage = storage
        self.lessons = lessons
        self.settings = settings or LearningSettings()
        self.schedule = Schedule(self.settings.schedule)
        self.clock = clock
        self._refs: dict[tuple[str, str], QuestionRef] = {}  # registered questions, by their current hash
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lessons change ----------------------------------------------------------------------------------

    async def reconcile(self) -> tuple[int, int]:
        """Reset the cards of changed questions and retire removed ones; (reset, retired).  At start-up and
        after every lesson reload."""
        current = {(lesson.id, q.id): content_hash(lesson, q) for lesson in self.lessons.lessons() for q in lesson.quiz}
        self._refs.clear()
        found = reset, retired = await self.storage.reconcile_questions(current, self.clock())
        if reset or retired:
            log.info("review cards follow the lessons: %d question(s) changed (cards reset), %d retired", *found)
        return reset, retired

    def lessons_changed(self, *_report: object) -> None:
        """A catalog `watch` callback: reconcile in the background (the task is held until it ends)."""
        task = asyncio.get_running_loop().create_task(self._reconcile_logged(), name="review-reconcile")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reconcile_logged(self) -> None:
        try:
            await self.reconcile()
        except Exception:
            log.exception("could not bring review cards up to date with the lessons")

    async def _ref(self, lesson: Lesson, question: Question) -> QuestionRef:
        key, fingerprint = (lesson.id, question.id), content_hash(lesson, question)
        ref = self._refs.get(key)
        if ref is None or ref.content_hash != fingerprint:
            ref = await self.storage.review_question(lesson.id, question.id, fingerprint, self.clock())
            self._refs[key] = ref
        return ref

    # -- answers feed the cards --------------------------------------------------------------------------

    async def record_answers(
        self, guild_id: int, lesson: Lesson, question: Question, outcomes: Sequence[Outcome], source: Source = "quiz"
    ) -> list[CardResult]:
        """Schedule each learner's card for this question from their answer (a new card on a first answer),
        save the cards and the answer log in one transaction, and record the lessons this made done."""
        return (await self._record(guild_id, lesson, question, outcomes, source))[0]

    async def _record(
        self, guild_id: int, lesson: Lesson, question: Question, outcomes: Sequence[Outcome], source: Source
    ) -> tuple[list[CardResult], set[int]]:
        """The saved cards, and who finished the lesson with this answer."""
        if not outcomes:
            return [], set()
        now = self.clock()
        ref = await self._ref(lesson, question)
        cards = await self.storage.question_cards(guild_id, ref.id, [o.user_id for o in outcomes])
        results: list[CardResult] = []
        for outcome in outcomes:
            before = cards.get(outcome.user_id)
            rating = rating_for(outcome, before)
            card = before or self.schedule.new_card(guild_id, outcome.user_id, ref.id, now)
            entry = ReviewLogRow(
                guild_id, outcome.user_id, ref.id, source, outcome.correct, int(rating), outcome.seconds, now
            )
            results.append(CardResult(self.schedule.answer(card, rating, outcome.correct, now), entry))
        await self.storage.record_reviews(results)
        finished = set()
        for outcome in outcomes:  # only a right answer can complete a lesson
            if outcome.correct and await self._check_lesson(guild_id, outcome.user_id, lesson):
                finished.add(outcome.user_id)
        return results, finished

    async def _check_lesson(self, guild_id: int, user_id: int, lesson: Lesson) -> bool:
        """Record the lesson done if this learner now meets the rule; True when that happened now."""
        if lesson.id in await self.storage.lessons_done(guild_id, user_id):
            return False
        ran = (await self.storage.examples_run(guild_id, user_id)).get(lesson.id, set())
        cards = await self.storage.learner_cards(guild_id, user_id, lesson.id)
        results = {(c.lesson_id, c.question_id): c.card.last_correct for c in cards}
        if not meets_mastery(lesson, ran, results, self.settings.mastery):
            return False
        done = await self.storage.mark_done(guild_id, user_id, lesson.id, self.clock())
        if done:
            log.info("learner %s finished lesson %s", user_id, lesson.id)
        return done

    async def record_run(self, guild_id: int, user_id: int) -> list[str]:
        """After an example run was stored: the lessons it made done (a last example run can be what was
        missing)."""
        return await self.check_done(guild_id, user_id)

    async def check_done(self, guild_id: int, user_id: int) -> list[str]:
        path = await self.path(guild_id, user_id)
        return path.newly_done

    # -- /review ------------------------------------------------------------------------------------------

    async def due(self, guild_id: int, user_id: int, limit: int | None = None) -> list[DueItem]:
        """The learner's due cards, most overdue first, with their lesson and question (cards of questions
        that are gone are left out; the next reconcile retires them)."""
        limit = limit or self.settings.session_size
        items: list[DueItem] = []
        for found in await self.storage.due_cards(guild_id, user_id, self.clock(), limit):
            question = self._question(found.lesson_id, found.question_id)
            if question is not None:
                items.append(DueItem(question[0], question[1], found.card))
        return items

    def _question(self, lesson_id: str, question_id: str) -> tuple[Lesson, Question] | None:
        try:
            lesson = self.lessons.get(lesson_id)
        except UnknownLesson:
            return None
        question = lesson.question(question_id)
        return None if question is None else (lesson, question)

    async def answer(
        self,
        guild_id: int,
        user_id: int,
        lesson_id: str,
        question_id: str,
        raw: AnswerValue | Sequence[str],
        seconds: float | None = None,
        *,
        hinted: bool = False,
    ) -> ReviewAnswer:
        """A review's answer: checked like a quiz answer (`QuizError` when it is malformed or the question is
        gone), then the card is scheduled and saved."""
        found = self._question(lesson_id, question_id)
        if found is None:
            raise QuizError("review.question_gone")
        lesson, question = found
        correct = is_correct(question, coerce_answer(question, raw))
        outcome = Outcome(user_id, correct, seconds, question.timeout, hinted)
        [result], finished = await self._record(guild_id, lesson, question, [outcome], "review")
        return ReviewAnswer(correct, result.log.rating, result.card, [lesson.id] if finished else [])

    # -- the path, streaks, the learner at a glance -------------------------------------------------------

    async def path(self, guild_id: int, user_id: int) -> LearnerPath:
        ran = await self.storage.examples_run(guild_id, user_id)
        cards = await self.storage.learner_cards(guild_id, user_id)
        done = await self.storage.lessons_done(guild_id, user_id)
        results = {(c.lesson_id, c.question_id): c.card.last_correct for c in cards}
        path = build_path(self.lessons.lessons(), ran, results, done, self.settings.mastery)
        now = self.clock()
        for lesson_id in path.newly_done:
            if await self.storage.mark_done(guild_id, user_id, lesson_id, now):
                log.info("learner %s finished lesson %s", user_id, lesson_id)
        return path

    async def timezone(self, user_id: int) -> str:
        return await self.storage.timezone(user_id) or "UTC"

    async def set_timezone(self, user_id: int, text: str) -> str:
        """Save the learner's time zone (`UnknownTimezone` with suggestions); the IANA name saved."""
        name = parse_timezone(text)
        await self.storage.set_timezone(user_id, name, self.clock())
        return name

    async def streak(self, user_id: int) -> Streak:
        tz = zone(await self.storage.timezone(user_id))
        return streak(await self.storage.activity(user_id, 0.0), tz, self.clock())

    async def summary(self, guild_id: int, user_id: int) -> Summary:
        due, upcoming = await self.storage.review_load(guild_id, user_id, self.clock())
        path, days = await self.path(guild_id, user_id), await self.streak(user_id)
        return Summary(path, days, due, upcoming, await self.timezone(user_id))

    # -- reminders ----------------------------------------------------------------------------------------

    async def set_reminders(self, guild_id: int, user_id: int, enabled: bool) -> None:
        await self.storage.set_reminders(guild_id, user_id, enabled, self.clock())

    async def stop_reminders(self, user_id: int) -> int:
        """The learner said "stop": no reminder from any server until they turn them on again."""
        return await self.storage.stop_reminders(user_id, self.clock())

    async def reminders_due(self, limit: int = 100) -> list[ReminderCandidate]:
        """Who gets a reminder now: opted in, not stopped, cards due, not reminded yet today (their day), and
        it is past `reminder_hour` where they are.  Oldest reminded first."""
        now = self.clock()
        candidates = await self.storage.reminder_candidates(now, limit)
        return [c for c in candidates if may_remind(c, now, self.settings.reminder_hour)]

    async def reminded(self, guild_id: int, user_id: int) -> None:
        await self.storage.reminder_sent(guild_id, user_id, self.clock())

    # -- recaps, retention, /forget-me --------------------------------------------------------------------

    async def recap(self, guild_id: int, limit: int = 5) -> RecapData:
        """The server's last seven days."""
        now = self.clock()
        return await self.storage.recap(guild_id, now - WEEK, now, limit)

    async def prune(self) -> int:
        """Drop answer-log entries older than `log_days` (cards keep what scheduling needs)."""
        if self.settings.log_days is None:
            return 0
        return await self.storage.prune_review_log(self.clock() - self.settings.log_days * DAY)

    async def forget(self, user_id: int) -> dict[str, int]:
        """/forget-me: everything about the learner, in every server, in one transaction."""
        removed = await self.storage.forget_user(user_id)
        tables = sum(1 for n in removed.values() if n)
        log.info("forgot a learner at their request: %d row(s) in %d table(s)", sum(removed.values()), tables)
        return removed


def may_remind(candidate: ReminderCandidate, now: float, hour: int) -> bool:
    """At most one reminder per local day, and not before `hour` o'clock where the learner is."""
    tz = zone(candidate.timezone)
    local = datetime.fromtimestamp(now, tz)
    if candidate.due <= 0 or local.hour < hour:
        return False
    return candidate.last_sent is None or local_day(candidate.last_sent, tz) < local.date()
