"""Study sessions on Discord: a host walks a group through one lesson in a thread (or the channel).

The session card (one bot message) shows the lesson's current section and who is present, with Join /
Leave for everyone and Next section, Run example, Quiz question, Pause/Resume, End for the host or an admin
(Manage Server or a configured admin role).  Every change is saved (`storage.save_session`: the core
`StudySession.to_state()` plus where its card lives), so after a restart `restore()` brings the session
back — its buttons are stateless (`views/study.py`) and its open question resumes through `QuizService`.
At the end a summary is posted and every participant's progress is updated.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.config import DiscordSettings
from bot.core.catalog import Catalog
from bot.core.errors import CorobotError
from bot.core.quiz import QuizError
from bot.core.sessions import SessionError, SessionStatus, StudySession
from bot.core.storage import Storage
from bot.discord_app.errors import SessionBusy, SessionGone
from bot.discord_app.i18n import t
from bot.discord_app.permissions import is_admin
from bot.discord_app.quiz_render import session_card, summary_text
from bot.discord_app.quizzes import LiveQuiz, QuizService, QuizTiming, forget_task
from bot.discord_app.runs import RunService

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
NONE = discord.AllowedMentions.none()
CardView = Callable[["LiveSession"], discord.ui.View | None]


@dataclass(eq=False)
class LiveSession:
    session: StudySession
    guild_id: int
    channel_id: int  # where /study was used: one active session per channel
    where: int  # the thread (or channel) that holds the card and the questions
    locale: str
    card_id: int | None = None
    question_message: int | None = None  # the open question's message, to close it at the reveal
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def id(self) -> str:
        return self.session.id

    def state(self) -> dict[str, Any]:
        state = self.session.to_state()
        state["discord"] = {
            "where": self.where,
            "card": self.card_id,
            "locale": self.locale,
            "question": self.question_message,
        }
        return state


class StudyService:
    def __init__(
        self, client: discord.Client, catalog: Catalog, storage: Storage, quizzes: QuizService, runs: RunService,
        settings: DiscordSettings, timing: QuizTiming, card_view: CardView,
    ) -> None:  # fmt: skip
        self.client = client
        self.catalog = catalog
        self.storage = storage
        self.quizzes = quizzes
        self.runs = runs
        self.settings = settings
        self.timing = timing
        self.card_view = card_view
        self.live: dict[str, LiveSession] = {}
        self.by_channel: dict[int, str] = {}
        self._auto: dict[str, asyncio.Task[None]] = {}

    # -- start ---------------------------------------------------------------------------------------------

    async def start(
        self, interaction: Interaction, lesson_id: str, *, thread: bool, auto_advance: float | None, locale: str
    ) -> LiveSession:
        lesson = self.catalog.get(lesson_id)
        channel_id = interaction.channel_id or 0
        if channel_id in self.by_channel:
            raise SessionBusy()
        guild_id = interaction.guild_id or 0
        session = StudySession("s" + secrets.token_hex(5), lesson, interaction.user.id, time.time(), auto_advance)
        live = LiveSession(session, guild_id, channel_id, channel_id, locale)
        self.by_channel[channel_id] = live.id
        try:
            await self.storage.save_session(live.id, guild_id, channel_id, live.state())
        except sqlite3.IntegrityError:
            self.by_channel.pop(channel_id, None)
            raise SessionBusy() from None
        self.live[live.id] = live
        await interaction.response.defer(ephemeral=True, thinking=True)
        if thread:
            live.where = await self._open_thread(interaction, lesson.title.get(locale)) or channel_id
        view = self.card_view(live) or discord.utils.MISSING
        card = await self._channel(live).send(session_card(session, locale), view=view, allowed_mentions=NONE)
        live.card_id = card.id
        await self.save(live)
        await self.storage.mark_lesson(guild_id, session.host_id, lesson.id, completed=False)
        self._start_auto(live)
        await interaction.followup.send(t(locale, "study.started", where=f"<#{live.where}>"), ephemeral=True,
                                        allowed_mentions=NONE)  # fmt: skip
        log.info("study session %s started by %s in %s (lesson %s)", live.id, session.host_id, live.where, lesson.id)
        return live

    async def _open_thread(self, interaction: Interaction, title: str) -> int | None:
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel):
            return None
        try:
            created = await channel.create_thread(name=f"📚 {title}"[:100], type=discord.ChannelType.public_thread,
                                                  auto_archive_duration=1440)  # fmt: skip
        except discord.HTTPException as exc:
            log.warning("could not open a thread for a study session (%s); using the channel", exc)
            return None
        return created.id

    # -- helpers -------------------------------------------------------------------------------------------

    def _channel(self, live: LiveSession) -> discord.PartialMessageable:
        return self.client.get_partial_messageable(live.where, guild_id=live.guild_id or None)

    def get(self, session_id: str) -> LiveSession:
        live = self.live.get(session_id)
        if live is None:
            raise SessionGone()
        return live

    async def save(self, live: LiveSession) -> None:
        await self.storage.save_session(live.id, live.guild_id, live.channel_id, live.state())

    async def refresh_card(self, live: LiveSession, interaction: Interaction | None = None) -> None:
        content, view = session_card(live.session, live.locale), self.card_view(live)
        try:
            if interaction is not None and not interaction.response.is_done():
                await interaction.response.edit_message(content=content, view=view, allowed_mentions=NONE)
            elif live.card_id is not None:
                await (
                    self._channel(live)
                    .get_partial_message(live.card_id)
                    .edit(content=content, view=view, allowed_mentions=NONE)
                )
        except discord.HTTPException as exc:
            log.warning("session %s: could not update the card: %s", live.id, exc)

    # -- buttons -------------------------------------------------------------------------------------------

    async def press(self, interaction: Interaction, session_id: str, action: str) -> None:
        """One card button: j(oin) l(eave) for everyone; n(ext) r(un) q(uiz) p(ause/resume) e(nd) host-only."""
        live = self.get(session_id)
        session, user, now = live.session, interaction.user.id, time.time()
        admin = is_admin(interaction, self.settings.admin_role_ids)
        if action == "j":
            session.join(user, now)
            await self.save(live)
            await self.storage.mark_lesson(live.guild_id, user, session.lesson.id, completed=False)
            await self.refresh_card(live, interaction)
        elif action == "l":
            session.leave(user, now)
            await self.save(live)
            await self.refresh_card(live, interaction)
        elif action == "n":
            session.next_section(user, is_admin=admin)
            self._start_auto(live)
            await self.save(live)
            await self.refresh_card(live, interaction)
        elif action == "r":
            session.check_host(user, is_admin=admin)
            example_id = session.current_example()
            if session.status is not SessionStatus.ACTIVE:
                session.record_example(user, example_id, is_admin=admin)  # raises the paused/ended error
            await self.runs.start(interaction, session.lesson.id, example_id)
            session.record_example(user, example_id, is_admin=admin)
            await self.save(live)
        elif action == "q":
            await self._ask(interaction, live, user, admin)
        elif action == "p":
            if session.status is SessionStatus.PAUSED:
                session.resume(user, now, is_admin=admin)
            else:
                session.pause(user, now, is_admin=admin)
            self._start_auto(live)  # stops the timer while paused, starts the step over on resume
            await self.save(live)
            await self.refresh_card(live, interaction)
        elif action == "e":
            session.check_host(user, is_admin=admin)
            await interaction.response.defer()
            await self.end(live, user, admin=admin)
        else:
            raise SessionError(f"unknown session action {action!r}")

    async def _ask(self, interaction: Interaction, live: LiveSession, user: int, admin: bool) -> None:
        session = live.session
        current = session.quiz.current
        if current is not None and not current.closed:
            raise QuizError("a question is already open; wait for its answer to be revealed")
        session.ask_question(user, time.time(), is_admin=admin, duration=self.timing.question_timeout)
        await interaction.response.defer()
        await self.quizzes.ask_in_session(self._quiz_of(live))

    def _quiz_of(self, live: LiveSession) -> LiveQuiz:
        session = live.session
        quiz = LiveQuiz(live.id, live.guild_id, live.where, session.lesson, session.quiz, live.locale,
                        session.host_id, session=session, message_id=live.question_message)  # fmt: skip

        async def save() -> None:
            live.question_message = quiz.message_id
            await self.save(live)

        quiz.save = save
        return quiz

    async def end(self, live: LiveSession, user: int, *, admin: bool = False) -> None:
        session = live.session
        quiz = self.quizzes.live.get(live.id)
        if quiz is not None:
            await self.quizzes.reveal(quiz)
        summary = session.end(user, time.time(), is_admin=admin)
        self.quizzes.forget(live.id)
        self._stop_auto(live.id)
        await self.save(live)
        await self.storage.end_session(live.id)
        self.live.pop(live.id, None)
        self.by_channel.pop(live.channel_id, None)
        for member in summary.participants:
            try:
                await self.storage.mark_lesson(live.guild_id, member, session.lesson.id, completed=True)
            except Exception:
                log.exception("session %s: could not update the progress of %s", live.id, member)
        await self.refresh_card(live)
        try:
            await self._channel(live).send(summary_text(session, summary, live.locale), allowed_mentions=NONE)
        except discord.HTTPException as exc:
            log.warning("session %s: could not post the summary: %s", live.id, exc)
        log.info("study session %s ended: %d participants, %d questions", live.id, len(summary.participants),
                 summary.questions)  # fmt: skip

    # -- auto-advance --------------------------------------------------------------------------------------

    def _start_auto(self, live: LiveSession) -> None:
        """(Re)start the timer of the current step, if it has one: a manual Next or a Resume starts it over."""
        self._stop_auto(live.id)
        step = live.session.step()
        if step is None:
            return
        task = asyncio.create_task(self._auto_advance(live, step), name=f"session-{live.id}-auto")
        self._auto[live.id] = task
        task.add_done_callback(functools.partial(forget_task, self._auto, live.id))

    def _stop_auto(self, session_id: str) -> None:
        task = self._auto.pop(session_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _auto_advance(self, live: LiveSession, step: float) -> None:
        await asyncio.sleep(step)
        session = live.session
        if session.step() is None:  # paused, ended or at the end meanwhile (their handlers stop us too)
            return
        session.next_section(session.host_id)
        try:
            await self.save(live)
        except Exception:
            log.exception("session %s: could not save after auto-advance", live.id)
        await self.refresh_card(live)
        self._start_auto(live)

    # -- restart -------------------------------------------------------------------------------------------

    async def restore(self) -> int:
        count = 0
        for session_id, guild_id, channel_id, state in await self.storage.active_sessions():
            try:
                session = StudySession.from_state(state, self.catalog.get(state["lesson"]))
                extra = state.get("discord") or {}
                where = int(extra.get("where") or channel_id)
                live = LiveSession(session, guild_id, channel_id, where, str(extra.get("locale") or "en"))
                live.card_id, live.question_message = extra.get("card"), extra.get("question")
            except (CorobotError, KeyError, ValueError, TypeError) as exc:
                log.warning("study session %s cannot be resumed (%s); ending it", session_id, exc)
                await self.storage.end_session(session_id)
                continue
            self.live[session_id] = live
            self.by_channel[channel_id] = session_id
            current = session.quiz.current
            if current is not None and not current.closed:
                quiz = self._quiz_of(live)
                await self.quizzes.reload_answers(quiz)
                self.quizzes.resume(quiz)
            self._start_auto(live)
            count += 1
        return count

    async def shutdown(self) -> None:
        tasks = list(self._auto.values())
        for task in tasks:
            task.cancel()
        if tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait(tasks, timeout=2.0)
