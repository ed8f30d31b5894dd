"""Study sessions on Discord: a host walks a group through one lesson in a thread (or the channel).

The session card (one bot message) shows the lesson's current section and who is present, with Join /
Leave for everyone and Next section, Run example, Quiz question, Pause/Resume, End for the host or an admin
(Manage Server or a configured admin role); each button calls its own method here.  Every change is saved
(`storage.save_session`: the core `StudySession.to_state()` plus where its card lives), so after a restart
`restore()` brings the session back — its buttons are stateless and its open question resumes through the
quiz feature's `QuizService`.  At the end a summary is posted and every participant's progress is updated.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import discord

from bot.config import DiscordSettings
from bot.core.catalog import Catalog
from bot.core.errors import CorobotError, StorageConflict
from bot.core.quiz import QuizError
from bot.core.sessions import SessionStatus, StudySession
from bot.core.storage import Storage
from bot.core.tasks import OwnedTasks
from bot.discord_app.context import NO_PINGS, Interaction, QuizTiming
from bot.discord_app.errors import SessionBusy, SessionGone
from bot.discord_app.i18n import t
from bot.discord_app.permissions import is_admin
from bot.discord_app.quiz.service import LiveQuiz, QuizService
from bot.discord_app.runs.service import RunService
from bot.discord_app.study.texts import session_card, summary_text

log = logging.getLogger(__name__)

CardControls = Callable[["LiveSession"], discord.ui.View | None]


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


@dataclass(frozen=True, slots=True)
class Press:
    """Who pressed a card button, and when."""

    live: LiveSession
    user: int
    admin: bool
    now: float


class StudyService:
    def __init__(
        self,
        client: discord.Client,
        catalog: Catalog,
        storage: Storage,
        quizzes: QuizService,
        runs: RunService,
        settings: DiscordSettings,
        timing: QuizTiming,
        controls: CardControls,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.storage = storage
        self.quizzes = quizzes
        self.runs = runs
        self.settings = settings
        self.timing = timing
        self.controls = controls
        self.live: dict[str, LiveSession] = {}
        self.by_channel: dict[int, str] = {}
        self.auto = OwnedTasks()  # one auto-advance timer per session, keyed by its id

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
        except StorageConflict:
            self.by_channel.pop(channel_id, None)
            raise SessionBusy() from None
        self.live[live.id] = live
        await interaction.response.defer(ephemeral=True, thinking=True)
        if thread:
            live.where = await self._open_thread(interaction, lesson.title.get(locale)) or channel_id
        view = self.controls(live) or discord.utils.MISSING
        card = await self._channel(live).send(session_card(session, locale), view=view, allowed_mentions=NO_PINGS)
        live.card_id = card.id
        await self.save(live)
        await self.storage.mark_lesson(guild_id, session.host_id, lesson.id, completed=False)
        self._start_auto(live)
        started = t(locale, "study.started", where=f"<#{live.where}>")
        await interaction.followup.send(started, ephemeral=True, allowed_mentions=NO_PINGS)
        log.info("study session %s started by %s in %s (lesson %s)", live.id, session.host_id, live.where, lesson.id)
        return live

    async def _open_thread(self, interaction: Interaction, title: str) -> int | None:
        channel = interaction.channel
        if not isinstance(channel, discord.TextChannel):
            return None
        name, kind = f"📚 {title}"[:100], discord.ChannelType.public_thread
        try:
            created = await channel.create_thread(name=name, type=kind, auto_archive_duration=1440)
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

    def press(self, interaction: Interaction, session_id: str) -> Press:
        live = self.get(session_id)
        admin = is_admin(interaction, self.settings.admin_role_ids)
        return Press(live, interaction.user.id, admin, time.time())

    async def save(self, live: LiveSession) -> None:
        await self.storage.save_session(live.id, live.guild_id, live.channel_id, live.state())

    async def refresh_card(self, live: LiveSession, interaction: Interaction | None = None) -> None:
        content, view = session_card(live.session, live.locale), self.controls(live)
        try:
            if interaction is not None and not interaction.response.is_done():
                await interaction.response.edit_message(content=content, view=view, allowed_mentions=NO_PINGS)
            elif live.card_id is not None:
                card = self._channel(live).get_partial_message(live.card_id)
                await card.edit(content=content, view=view, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("session %s: could not update the card: %s", live.id, exc)

    async def _changed(self, live: LiveSession, interaction: Interaction) -> None:
        await self.save(live)
        await self.refresh_card(live, interaction)

    # -- the card's buttons --------------------------------------------------------------------------------

    async def join(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        p.live.session.join(p.user, p.now)
        await self.storage.mark_lesson(p.live.guild_id, p.user, p.live.session.lesson.id, completed=False)
        await self._changed(p.live, interaction)

    async def leave(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        p.live.session.leave(p.user, p.now)
        await self._changed(p.live, interaction)

    async def next_section(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        p.live.session.next_section(p.user, is_admin=p.admin)
        self._start_auto(p.live)
        await self._changed(p.live, interaction)

    async def run_section_example(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        session = p.live.session
        session.check_host(p.user, is_admin=p.admin)
        example_id = session.current_example()
        if session.status is not SessionStatus.ACTIVE:
            session.record_example(p.user, example_id, is_admin=p.admin)  # raises the paused/ended error
        await self.runs.start(interaction, session.lesson.id, example_id)
        session.record_example(p.user, example_id, is_admin=p.admin)
        await self.save(p.live)

    async def ask_question(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        session = p.live.session
        current = session.quiz.current
        if current is not None and not current.closed:
            raise QuizError("quiz.still_open")
        session.ask_question(p.user, p.now, is_admin=p.admin, duration=self.timing.question_timeout)
        await interaction.response.defer()
        await self.quizzes.ask_in_session(self._quiz_of(p.live))

    async def toggle_pause(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        session = p.live.session
        if session.status is SessionStatus.PAUSED:
            session.resume(p.user, p.now, is_admin=p.admin)
        else:
            session.pause(p.user, p.now, is_admin=p.admin)
        self._start_auto(p.live)  # stops the timer while paused, starts the step over on resume
        await self._changed(p.live, interaction)

    async def end_by(self, interaction: Interaction, session_id: str) -> None:
        p = self.press(interaction, session_id)
        p.live.session.check_host(p.user, is_admin=p.admin)
        await interaction.response.defer()
        await self.end(p.live, p.user, admin=p.admin)

    # -- quiz questions and the end ------------------------------------------------------------------------

    def _quiz_of(self, live: LiveSession) -> LiveQuiz:
        session = live.session
        quiz = LiveQuiz(live.id, live.guild_id, live.where, session.lesson, session.quiz, live.locale, session.host_id)
        quiz.session, quiz.message_id = session, live.question_message

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
        self.auto.cancel(live.id)
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
            await self._channel(live).send(summary_text(session, summary, live.locale), allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("session %s: could not post the summary: %s", live.id, exc)
        counts = (len(summary.participants), summary.questions)
        log.info("study session %s ended: %d participants, %d questions", live.id, *counts)

    # -- auto-advance --------------------------------------------------------------------------------------

    def _start_auto(self, live: LiveSession) -> None:
        """(Re)start the timer of the current step, if it has one: a manual Next or a Resume starts it over."""
        self.auto.cancel(live.id)
        step = live.session.step()
        if step is not None:
            self.auto.spawn(self._auto_advance(live, step), name=f"session-{live.id}-auto", key=live.id)

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
        await self.auto.close()
