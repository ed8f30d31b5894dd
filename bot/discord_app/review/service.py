"""Reviews on Discord: a `/review` is a run of private solo quizzes over the member's due cards, one quiz per
lesson, driven by the quiz feature (its controls, forms, reveals and predict-then-run); this service feeds
every revealed answer — of any quiz, study session or review — into the member's review cards.

`QuizService` calls `revealed` after it scores each question, and `finished` when a quiz ends: a review then
goes on with its next lesson's cards, and after the last one says how it went and when each card comes back.
What a review has left to ask is kept in memory: after a restart, `/review` asks what is still due.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from bot.core.lessons import Lesson, Question
from bot.core.quiz import QuestionRound, QuizGame, Reveal
from bot.core.review.cards import quiz_outcomes
from bot.core.review.service import DueItem, Learning
from bot.core.storage import ReviewSource
from bot.discord_app.context import NO_PINGS, Interaction
from bot.discord_app.quiz.service import LiveQuiz, QuizService
from bot.discord_app.review.texts import Reviewed, summary_text

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Review:
    """One member's /review in progress: the lessons still to ask, what was answered so far."""

    guild_id: int
    owner: int
    channel_id: int
    locale: str
    rest: list[tuple[Lesson, list[Question]]]
    done: list[Reviewed] = field(default_factory=list)


def by_lesson(items: list[DueItem]) -> list[tuple[Lesson, list[Question]]]:
    """Due cards grouped by lesson, in the order the first card of each came due."""
    groups: dict[str, tuple[Lesson, list[Question]]] = {}
    for item in items:
        groups.setdefault(item.lesson.id, (item.lesson, []))[1].append(item.question)
    return list(groups.values())


class ReviewService:
    def __init__(self, learning: Learning, quizzes: QuizService) -> None:
        self.learning = learning
        self.quizzes = quizzes
        self.reviews: dict[str, Review] = {}  # live quiz id -> the review it belongs to

    def attach(self) -> None:
        self.quizzes.on_reveal.append(self.revealed)
        self.quizzes.on_finish.append(self.finished)

    def detach(self) -> None:
        self.quizzes.on_reveal.remove(self.revealed)
        self.quizzes.on_finish.remove(self.finished)

    async def start(self, interaction: Interaction, items: list[DueItem], locale: str) -> None:
        """Ask `items` (the member's due cards), privately, through the quiz feature."""
        guild_id, channel_id = interaction.guild_id or 0, interaction.channel_id or 0
        review = Review(guild_id, interaction.user.id, channel_id, locale, by_lesson(items))
        await self._next(review, interaction)

    async def _next(self, review: Review, interaction: Interaction) -> bool:
        if not review.rest:
            return False
        lesson, questions = review.rest.pop(0)
        game = QuizGame(lesson.id, questions, mode="solo")
        quiz_id = "r" + secrets.token_hex(4)
        where = (review.guild_id, review.channel_id)
        live = LiveQuiz(quiz_id, *where, lesson, game, review.locale, review.owner, solo=True, review=True)
        live.interaction = interaction
        self.reviews[quiz_id] = review
        await self.quizzes.start(live)
        return True

    async def revealed(self, live: LiveQuiz, rnd: QuestionRound, reveal: Reveal) -> None:
        """Every revealed question: each answer schedules the member's card (a review's as a review)."""
        outcomes = quiz_outcomes(rnd, reveal)
        source: ReviewSource = "review" if live.review else "quiz"
        results = await self.learning.record_answers(live.guild_id, live.lesson, rnd.question, outcomes, source)
        review = self.reviews.get(live.id)
        if review is not None:
            review.done.extend(
                Reviewed(live.lesson.id, rnd.question.id, r.log.correct, r.card.due) for r in results
            )

    async def finished(self, live: LiveQuiz) -> bool:
        """A review's quiz ended: ask the next lesson's cards, or sum up.  Other quizzes: not ours."""
        review = self.reviews.pop(live.id, None)
        if not live.review or review is None or live.interaction is None:
            return live.review
        if await self._next(review, live.interaction):
            return True
        try:
            await live.interaction.followup.send(
                summary_text(review.done, review.locale), ephemeral=True, allowed_mentions=NO_PINGS
            )
        except Exception:
            log.exception("review %s: could not send its summary", live.id)
        return True
