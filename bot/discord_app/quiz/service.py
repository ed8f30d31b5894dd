"""Live quizzes on Discord: the answer windows, answers stored as they arrive, reveals, predict-then-run.

A `LiveQuiz` wraps a core `QuizGame` (standalone `/quiz`) or the game inside a `StudySession`.  One driver
task per quiz waits for the current window to close (an `asyncio` timeout; solo quizzes are woken as soon
as the player answers), then reveals: waits for answers still being written, scores them in storage in one
transaction, closes the question message, posts the answer, the explanation, how the group answered and
who scored, and — for a question tied to an example — runs it and shows the real output with its times and
the real elapsed time.  A standalone quiz then moves to the next question and ends with a scoreboard.

Restart: every change of the quiz is saved (`storage.save_quiz`, or the session's own save); answers are in
the `answers` table.  `restore()` rebuilds each active quiz from the database at start-up, re-reads the open
question's answers, and resumes its driver — a window that passed while the bot was down is revealed at once.
The buttons keep working because they are stateless (`components.py`: the quiz id is in the custom id).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.core.catalog import Catalog
from bot.core.errors import CorobotError, RunnerError
from bot.core.lessons import Lesson, Question
from bot.core.quiz import (
    AnswerValue,
    QuestionRound,
    QuizError,
    QuizGame,
    Reveal,
    Submission,
    WindowClosed,
    coerce_answer,
)
from bot.core.record import record_run
from bot.core.runner import Runner
from bot.core.sessions import StudySession
from bot.core.storage import AnswerRow, Storage
from bot.core.tasks import OwnedTasks
from bot.discord_app.context import NO_PINGS, Interaction, QuizTiming
from bot.discord_app.errors import QuizBusy, QuizGone
from bot.discord_app.markdown import MESSAGE_LIMIT, clip
from bot.discord_app.quiz.texts import closed_card, question_card, reveal_text, run_text, scoreboard_text

log = logging.getLogger(__name__)

Controls = Callable[["LiveQuiz"], discord.ui.View | None]  # the answer controls of a quiz's open question
# what another feature does when a question is revealed (review cards) or a quiz ends (a review's next lessons)
RevealHook = Callable[["LiveQuiz", QuestionRound, Reveal], Awaitable[None]]
FinishHook = Callable[["LiveQuiz"], Awaitable[bool]]  # True: it took care of the ending (no scoreboard)


@dataclass(eq=False)
class LiveQuiz:
    id: str
    guild_id: int
    channel_id: int  # where the questions are posted
    lesson: Lesson
    game: QuizGame
    locale: str
    owner: int
    session: StudySession | None = None
    solo: bool = False
    review: bool = False  # a /review: the questions are due review cards; no points, no lesson progress
    message_id: int | None = None  # the current question's message (group quizzes)
    interaction: Interaction | None = None  # solo: the latest interaction, to send ephemeral follow-ups
    save: Callable[[], Awaitable[None]] | None = None  # session quizzes: persist the session instead
    writes: OwnedTasks = field(default_factory=OwnedTasks)  # answers being written to storage
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def number(self) -> int:
        return self.game.index + 1

    def state(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson.id,
            "questions": [q.id for q in self.game.questions],
            "owner": self.owner,
            "locale": self.locale,
            "solo": self.solo,
            "review": self.review,
            "message": self.message_id,
            "game": self.game.to_state(),
        }


def jsonable(value: AnswerValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


class QuizService:
    def __init__(
        self,
        client: discord.Client,
        catalog: Catalog,
        runner: Runner,
        storage: Storage,
        timing: QuizTiming,
        controls: Controls,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.runner = runner
        self.storage = storage
        self.timing = timing
        self.controls = controls
        self.live: dict[str, LiveQuiz] = {}
        self.by_channel: dict[int, str] = {}  # standalone group quizzes: one per channel
        self.tasks = OwnedTasks()  # one driver per quiz (keyed by its id), and background saves
        self.on_reveal: list[RevealHook] = []  # other features' hooks, called after each reveal is scored
        self.on_finish: list[FinishHook] = []

    # -- starting ------------------------------------------------------------------------------------------

    def new_quiz(
        self,
        lesson_id: str,
        where: tuple[int, int],
        owner: int,
        locale: str,
        *,
        count: int | None,
        solo: bool,
        speed_bonus: bool,
    ) -> LiveQuiz:
        """Validate and build a standalone quiz in `where` (guild, channel), not started yet; raises domain errors."""
        lesson = self.catalog.get(lesson_id)
        questions = list(lesson.quiz)[: count or None]
        if not questions:
            raise QuizError("quiz.no_questions", lesson=lesson.id)
        guild_id, channel_id = where
        if not solo and channel_id in self.by_channel:
            raise QuizBusy()
        game = QuizGame(lesson.id, questions, mode="solo" if solo else "group", speed_bonus=speed_bonus)
        quiz_id = "q" + secrets.token_hex(4)
        return LiveQuiz(quiz_id, guild_id, channel_id, lesson, game, locale, owner, solo=solo)

    async def start(self, live: LiveQuiz) -> None:
        """Open the first question, post it and start the driver."""
        self.live[live.id] = live
        if not live.solo and live.session is None:
            self.by_channel[live.channel_id] = live.id
        live.game.next_question(time.time(), self.timing.question_timeout)
        await self.post_question(live)
        self._drive(live)

    async def ask_in_session(self, live: LiveQuiz) -> None:
        """A session's host asked a question (already opened in the session): post it and time it."""
        self.live[live.id] = live
        await self.post_question(live)
        self._drive(live)

    def resume(self, live: LiveQuiz) -> None:
        """Track `live` again after a restart and let its driver close the open window."""
        self.live[live.id] = live
        self._drive(live)

    def _drive(self, live: LiveQuiz) -> None:
        self.tasks.spawn(self._driver(live), name=f"quiz-{live.id}", key=live.id)

    async def _driver(self, live: LiveQuiz) -> None:
        try:
            while True:
                rnd = live.game.current
                if rnd is not None and not rnd.closed:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(live.wake.wait(), max(0.0, rnd.closes_at - time.time()))
                    await self.reveal(live)
                if live.session is not None:
                    return
                if live.game.finished:
                    await self._finish(live)
                    return
                await asyncio.sleep(self.timing.gap)
                live.game.next_question(time.time(), self.timing.question_timeout)
                await self.post_question(live)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("quiz %s: driver failed", live.id)

    # -- messages ------------------------------------------------------------------------------------------

    def _channel(self, live: LiveQuiz) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(live.channel_id, guild_id=live.guild_id or None)

    async def _send(self, live: LiveQuiz, content: str, view: discord.ui.View | None = None) -> discord.Message | None:
        controls = view if view is not None else discord.utils.MISSING
        try:
            if live.solo:
                if live.interaction is None:
                    return None
                followup = live.interaction.followup
                return await followup.send(content, ephemeral=True, wait=True, view=controls, allowed_mentions=NO_PINGS)
            return await self._channel(live).send(content, view=controls, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("quiz %s: could not send a message: %s", live.id, exc)
            return None

    async def post_question(self, live: LiveQuiz) -> None:
        rnd = live.game.current
        assert rnd is not None
        total = len(live.game.questions)
        content = question_card(live.lesson, rnd.question, (live.number, total), rnd.closes_at, live.locale, live.solo)
        live.message_id = None
        live.wake.clear()  # a wake-up (a solo answer) is for this question from now on
        await self.persist(live)  # saved before anyone can see it: a restart from here on resumes the question
        message = await self._send(live, content, self.controls(live))
        if message is not None:
            live.message_id = message.id
            await self.persist(live)

    async def persist(self, live: LiveQuiz) -> None:
        try:
            if live.save is not None:
                await live.save()
            else:
                await self.storage.save_quiz(live.id, live.guild_id, live.channel_id, live.state())
        except Exception:
            log.exception("quiz %s: could not save its state", live.id)

    # -- answers and hints ---------------------------------------------------------------------------------

    def get(self, quiz_id: str, index: int) -> LiveQuiz:
        live = self.live.get(quiz_id)
        if live is None:
            raise QuizGone()
        if index != live.game.index:
            raise WindowClosed()
        return live

    def question(self, quiz_id: str, index: int) -> Question:
        """The question a component of quiz `quiz_id` belongs to, while its window is the current one."""
        return self.get(quiz_id, index).game.questions[index]

    async def answer(self, quiz_id: str, index: int, user_id: int, raw: AnswerValue | Sequence[str]) -> Submission:
        """Record (or change) an answer: checked in memory, then upserted in storage before the reply."""
        live = self.get(quiz_id, index)
        rnd = live.game.current
        if rnd is None:
            raise WindowClosed()
        now = time.time()
        if live.session is not None:
            submission = live.session.answer(user_id, raw, now)
        else:
            if live.solo and user_id != live.owner:
                raise QuizError("quiz.not_your_solo")
            submission = rnd.answer(user_id, raw, now)
        row = AnswerRow(live.id, rnd.question.id, user_id, jsonable(submission.value), now)
        write = live.writes.spawn(self.storage.record_answer(live.guild_id, row), name=f"answer-{live.id}-{user_id}")
        await asyncio.shield(write)
        return submission

    def hint(self, quiz_id: str, index: int, user_id: int, locale: str) -> tuple[str, int, int]:
        """(hint text in `locale`, its cost, hints left) for the member's next hint."""
        live = self.get(quiz_id, index)
        rnd = live.game.current
        if rnd is None:
            raise WindowClosed()
        taken = len(rnd.hints_taken.get(user_id, ()))
        if taken >= len(rnd.question.hints):
            taken = len(rnd.question.hints) - 1  # show the last one again, at no extra cost
        rnd.take_hint(user_id, taken, time.time())
        hint = rnd.question.hints[taken]
        self.tasks.spawn(self.persist(live), name=f"quiz-{live.id}-save")
        return hint.text.get(locale), hint.cost, len(rnd.question.hints) - taken - 1

    def wake(self, live: LiveQuiz) -> None:
        live.wake.set()

    # -- reveal --------------------------------------------------------------------------------------------

    async def reveal(self, live: LiveQuiz) -> Reveal | None:
        """Close the open question (once), score it in storage, post the answer and predict-then-run."""
        async with live.lock:
            rnd = live.game.current
            if rnd is None or rnd.closed:
                return None
            rnd.closed = True  # refuse new answers now; writes already admitted finish first
            await live.writes.wait()
            rnd.closed = False
            reveal = live.game.close_current()
            scores = {s.user_id: (s.correct, 0 if live.review else s.total) for s in reveal.scores}
            try:
                await self.storage.score_answers(live.id, rnd.question.id, scores)
            except Exception:
                log.exception("quiz %s: could not score question %s", live.id, rnd.question.id)
            await self.persist(live)
            for hook in self.on_reveal:
                try:
                    await hook(live, rnd, reveal)
                except Exception:
                    log.exception("quiz %s: a reveal hook failed", live.id)
        number = (live.number, len(live.game.questions))
        if live.message_id is not None and not live.solo:
            await self._close_message(live, live.message_id, rnd.question, number)
        message = await self._send(live, reveal_text(reveal, number, live.locale))
        if rnd.question.example is not None:
            await self._predict_then_run(live, rnd.question, message)
        counts = (len(reveal.scores), reveal.late)
        log.info("quiz %s: question %s revealed (%d answers, %d late)", live.id, rnd.question.id, *counts)
        return reveal

    async def _close_message(
        self, live: LiveQuiz, message_id: int, question: Question, number: tuple[int, int]
    ) -> None:
        message = self._channel(live).get_partial_message(message_id)
        rnd = live.game.current
        closes_at = rnd.closes_at if rnd is not None else time.time()
        card = question_card(live.lesson, question, number, closes_at, live.locale, False)
        try:
            await message.edit(content=closed_card(card, live.locale), view=None, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("quiz %s: could not close the question message: %s", live.id, exc)

    async def _predict_then_run(self, live: LiveQuiz, question: Question, message: discord.Message | None) -> None:
        example = live.lesson.example(question.example)
        if example is None:
            return
        try:
            text = run_text(example.id, question, await record_run(self.runner, example), live.locale)
        except RunnerError as exc:
            text = run_text(example.id, question, exc, live.locale)
        try:
            if message is None:
                await self._send(live, clip(text, MESSAGE_LIMIT))
                return
            content = clip(message.content + "\n" + text, MESSAGE_LIMIT)
            if live.solo and live.interaction is not None:
                await live.interaction.followup.edit_message(message.id, content=content, allowed_mentions=NO_PINGS)
            else:
                await message.edit(content=content, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("quiz %s: could not show the real run: %s", live.id, exc)

    async def _finish(self, live: LiveQuiz) -> None:
        handled = False
        for hook in self.on_finish:
            try:
                handled = await hook(live) or handled
            except Exception:
                log.exception("quiz %s: a finish hook failed", live.id)
        if not handled:
            await self._send(live, scoreboard_text(live.game.scoreboard(), live.locale))
        await self._end(live)
        if live.review:
            return
        everyone = len(live.game.questions)
        for user_id, _points, _right, answered in live.game.scoreboard():
            try:
                await self.storage.mark_lesson(live.guild_id, user_id, live.lesson.id, completed=answered >= everyone)
            except Exception:
                log.exception("quiz %s: could not update progress of %s", live.id, user_id)

    async def _end(self, live: LiveQuiz) -> None:
        self.live.pop(live.id, None)
        if self.by_channel.get(live.channel_id) == live.id:
            del self.by_channel[live.channel_id]
        if live.session is None:
            try:
                await self.storage.end_quiz(live.id)
            except Exception:
                log.exception("quiz %s: could not mark it ended", live.id)

    def forget(self, quiz_id: str) -> None:
        """A session ended: drop its quiz and driver."""
        self.live.pop(quiz_id, None)
        self.tasks.cancel(quiz_id)

    # -- restart -------------------------------------------------------------------------------------------

    async def restore(self) -> int:
        """Resume every active standalone quiz from storage; returns how many."""
        count = 0
        for quiz_id, guild_id, channel_id, state in await self.storage.active_quizzes():
            try:
                live = self._rebuild(quiz_id, guild_id, channel_id, state)
            except (CorobotError, KeyError, ValueError, TypeError) as exc:
                log.warning("quiz %s cannot be resumed (%s); ending it", quiz_id, exc)
                await self.storage.end_quiz(quiz_id)
                continue
            await self.reload_answers(live)
            self.live[quiz_id] = live
            if not live.solo:
                self.by_channel[channel_id] = quiz_id
            self._drive(live)
            count += 1
        return count

    def _rebuild(self, quiz_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> LiveQuiz:
        lesson = self.catalog.get(state["lesson"])
        found = [lesson.question(q) for q in state["questions"]]
        questions = [q for q in found if q is not None]
        if len(questions) != len(found):
            raise QuizError("quiz.questions_changed")
        game = QuizGame.from_state(state["game"], lesson.id, questions)
        locale, owner = str(state.get("locale", "en")), int(state.get("owner", 0))
        solo, review = bool(state.get("solo")), bool(state.get("review"))
        live = LiveQuiz(quiz_id, guild_id, channel_id, lesson, game, locale, owner, solo=solo, review=review)
        live.message_id = state.get("message")
        return live

    async def reload_answers(self, live: LiveQuiz) -> None:
        """The open question's answers from the database (they may be newer than the saved state)."""
        rnd = live.game.current
        if rnd is None or rnd.closed:
            return
        for row in await self.storage.answers(live.id, rnd.question.id):
            with contextlib.suppress(QuizError):
                value = coerce_answer(rnd.question, row.answer)
                rnd.submissions[row.user_id] = Submission(row.user_id, value, row.at - rnd.opened_at)

    # -- lifecycle -----------------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop the drivers (state is already saved; `restore()` resumes them after the restart)."""
        await self.tasks.close()
