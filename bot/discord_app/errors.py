"""The one place where failures become replies.

`report_error(interaction, error)` is the app-command tree's `on_error` and is also called by every button
callback, so commands and components answer failures the same way.  Order of handling:

1. unwrap `CommandInvokeError` / `TransformerError` to the original exception;
2. our own checks: `NotAdmin`, `RateLimited` (front-end), `NoPrivateMessage`;
3. domain errors from `bot.core.errors`: `UnknownLesson`, `UnknownExample`, `UserBusy`, `QueueFull`,
   `RunnerClosed`; quizzes and sessions: `WindowClosed`, `NotHost`, `SessionEnded`, a quiz or session that is
   gone; then any other `CorobotError` (its message is written for users);
4. anything else is unexpected: logged with a short reference id that the user is shown and can quote.

Every reply is ephemeral, has no mentions, and says what to do next.
"""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.core.errors import CorobotError, QueueFull, RunnerClosed, UnknownExample, UnknownLesson, UserBusy
from bot.core.quiz import WindowClosed
from bot.core.sessions import NotHost, SessionEnded
from bot.discord_app.i18n import t

log = logging.getLogger(__name__)


class NotAdmin(app_commands.CheckFailure):
    """The member lacks Manage Server and every configured admin role."""


class RateLimited(CorobotError):
    def __init__(self, runs: int, per_seconds: float, retry_after: float) -> None:
        self.runs = runs
        self.per_seconds = per_seconds
        self.retry_after = retry_after
        super().__init__(f"rate limited: {runs} runs per {per_seconds:g}s; retry in {retry_after:.0f}s")


class QuizGone(CorobotError):
    def __init__(self) -> None:
        super().__init__("this quiz has ended")


class QuizBusy(CorobotError):
    def __init__(self) -> None:
        super().__init__("a quiz is already running in this channel; wait for its scoreboard")


class SessionBusy(CorobotError):
    def __init__(self) -> None:
        super().__init__("a study session is already running in this channel; join it or wait for it to end")


class SessionGone(CorobotError):
    def __init__(self) -> None:
        super().__init__("this study session has ended")


def new_reference() -> str:
    return secrets.token_hex(3)


def describe(error: BaseException, locale: discord.Locale | str | None, examples: list[str] | None = None) -> str:
    """The user-facing text for an expected error; raises `LookupError` for an unexpected one."""
    if isinstance(error, NotAdmin):
        return t(locale, "err.not_admin")
    if isinstance(error, app_commands.NoPrivateMessage):
        return t(locale, "err.guild_only")
    if isinstance(error, RateLimited):
        return t(locale, "err.rate_limited", runs=error.runs, per=error.per_seconds, retry=max(error.retry_after, 1))
    if isinstance(error, UnknownLesson):
        return t(locale, "err.unknown_lesson", lesson=discord.utils.escape_markdown(error.lesson_id[:80]))
    if isinstance(error, UnknownExample):
        listed = ", ".join(f"`{x}`" for x in examples or []) or "—"
        return t(locale, "err.unknown_example", lesson=error.lesson_id, example=error.example_id[:80], examples=listed)
    if isinstance(error, UserBusy):
        return t(locale, "err.user_busy")
    if isinstance(error, QueueFull):
        return t(locale, "err.queue_full", size=error.size)
    if isinstance(error, RunnerClosed):
        return t(locale, "err.closed")
    if isinstance(error, WindowClosed):
        return t(locale, "err.window_closed")
    if isinstance(error, NotHost):
        return t(locale, "err.not_host")
    if isinstance(error, SessionEnded | SessionGone):
        return t(locale, "err.session_ended")
    if isinstance(error, QuizGone):
        return t(locale, "err.quiz_ended")
    if isinstance(error, CorobotError):
        return t(locale, "err.generic", message=str(error))
    raise LookupError(type(error).__name__)


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else error.original
        if inner is None:
            break
        error = inner
    return error


async def send_ephemeral(interaction: discord.Interaction[discord.Client], text: str) -> None:
    """Reply privately, whether or not the interaction was already answered; never raises."""
    none = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=none)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=none)
    except discord.HTTPException as exc:
        log.warning("could not send an error reply (interaction %s): %s", interaction.id, exc)


async def report_error(interaction: discord.Interaction[discord.Client], error: BaseException) -> None:
    original = unwrap(error)
    examples: list[str] | None = None
    if isinstance(original, UnknownExample):
        catalog = getattr(interaction.client, "catalog", None)
        try:
            examples = [e.id for e in catalog.get(original.lesson_id).examples] if catalog is not None else None
        except CorobotError:
            examples = None
    try:
        text = describe(original, interaction.locale, examples)
        log.info("interaction %s by %s refused: %s", interaction.id, interaction.user.id, original)
    except LookupError:
        ref = new_reference()
        command = interaction.command.qualified_name if interaction.command else interaction.data
        log.error("unexpected error [ref %s] in %s", ref, command, exc_info=original)
        text = t(interaction.locale, "err.unexpected", ref=ref)
    await send_ephemeral(interaction, text)
