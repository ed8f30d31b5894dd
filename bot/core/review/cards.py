"""Review cards: which version of a question a card is for, how a quiz answer becomes an FSRS rating, and
scheduling through the `fsrs` package (FSRS, Anki's current scheduler; no scheduling math here).

**The rating.**  FSRS asks how well the learner recalled (Again, Hard, Good, Easy); a quiz tells us whether
the answer was right, how long it took against the question's answer window, and whether a hint was taken:

- wrong -> **Again**: forgotten; the card comes back after the (re)learning step, 10 minutes by default.
- right after a hint, or in the last quarter of the window -> **Hard**: recalled with effort, a shorter
  interval than Good.
- right -> **Good**: the normal case.
- right in the first quarter of the window, without a hint, and right the time before too -> **Easy**: a
  confident, repeated recall, the longest interval.

Easy needs a previous right answer because a first right answer to a multiple-choice question may be a
lucky guess; FSRS would otherwise put it days further away than Good.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler, State

from bot.core.lessons import Lesson, Question
from bot.core.quiz import QuestionRound, Reveal
from bot.core.storage import NEW_CARD_STATE, NEW_CARD_STEP, CardRow

FAST_SHARE = 0.25  # of the answer window: a quick answer
SLOW_SHARE = 0.75  # of the answer window: a slow one
# what may change in a question without resetting its cards: how it is scored and explained, not what it asks
UNHASHED = {"hints", "points", "timeout", "explanation"}


def content_hash(lesson: Lesson, question: Question) -> str:
    """A fingerprint of what the question asks (its prompt, choices, answer and, for a question about an
    example, the example's code): a card made for another fingerprint is reset."""
    data = question.model_dump(mode="json", exclude=UNHASHED)
    if question.example is not None:
        example = lesson.example(question.example)
        data["example_code"] = example.code if example is not None else None
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One learner's answer to one question."""

    user_id: int
    correct: bool
    seconds: float | None = None  # from the question being shown to the answer
    window: float | None = None  # the answer window it was measured against
    hinted: bool = False


def quiz_outcomes(rnd: QuestionRound, reveal: Reveal) -> list[Outcome]:
    """A revealed question's answers as outcomes: right or wrong, how fast, with a hint or not."""
    return [
        Outcome(s.user_id, s.correct, rnd.submissions[s.user_id].at, rnd.duration, bool(rnd.hints_taken.get(s.user_id)))
        for s in reveal.scores
        if s.user_id in rnd.submissions
    ]


def rating_for(outcome: Outcome, card: CardRow | None) -> Rating:
    """The FSRS rating of an answer (see the module docstring); `card` is the learner's card before it."""
    if not outcome.correct:
        return Rating.Again
    share = None
    if outcome.seconds is not None and outcome.window:
        share = max(0.0, outcome.seconds) / outcome.window
    if outcome.hinted or (share is not None and share > SLOW_SHARE):
        return Rating.Hard
    right_before = card is not None and card.reps > 0 and card.last_correct is True
    if right_before and share is not None and share <= FAST_SHARE:
        return Rating.Easy
    return Rating.Good


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    desired_retention: float = 0.9
    learning_steps: tuple[float, ...] = (600.0,)  # seconds: a new card answered wrong comes back after these
    relearning_steps: tuple[float, ...] = (600.0,)  # seconds: the same for a card forgotten later
    maximum_interval: int = 365  # days
    fuzz: bool = True  # spread due dates a little (fsrs's fuzzing) so cards learnt together don't stay together


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


class Schedule:
    """Cards in, cards out, through one `fsrs.Scheduler`."""

    def __init__(self, settings: ScheduleSettings | None = None) -> None:
        settings = settings or ScheduleSettings()
        self.scheduler = Scheduler(
            desired_retention=settings.desired_retention,
            learning_steps=tuple(timedelta(seconds=s) for s in settings.learning_steps),
            relearning_steps=tuple(timedelta(seconds=s) for s in settings.relearning_steps),
            maximum_interval=settings.maximum_interval,
            enable_fuzzing=settings.fuzz,
        )

    @staticmethod
    def new_card(guild_id: int, user_id: int, question: int, now: float) -> CardRow:
        return CardRow(guild_id, user_id, question, NEW_CARD_STATE, NEW_CARD_STEP, None, None, now, None)

    def answer(self, card: CardRow, rating: Rating, correct: bool, now: float) -> CardRow:
        """The card after an answer rated `rating` at `now` (unix seconds)."""
        before = Card(
            card_id=card.question,  # fsrs only carries it into its review log
            state=State(card.state),
            step=card.step,
            stability=card.stability,
            difficulty=card.difficulty,
            due=_utc(card.due),
            last_review=None if card.last_review is None else _utc(card.last_review),
        )
        after, _log = self.scheduler.review_card(before, rating, review_datetime=_utc(now))
        lapsed = rating == Rating.Again and before.state == State.Review
        return replace(
            card,
            state=int(after.state),
            step=after.step,
            stability=after.stability,
            difficulty=after.difficulty,
            due=after.due.timestamp(),
            last_review=now,
            reps=card.reps + 1,
            lapses=card.lapses + lapsed,
            last_correct=correct,
        )
