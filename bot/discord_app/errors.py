"""The one place where failures become replies.

`report_error(interaction, error)` is the app-command tree's `on_error` and is also called by every component
and form, so commands, buttons and forms answer failures the same way.  Order of handling:

1. unwrap `CommandInvokeError` / `TransformerError` to the original exception;
2. discord.py's own: `NotAdmin` (our check), `NoPrivateMessage`, and a command this version no longer has or
   has changed (`CommandNotFound`, `CommandSignatureMismatch`: the member's app has an old command list);
3. every `CorobotError` (domain errors from `bot.core`, and the front-end's own below): its message id and
   parameters, in the member's language; an unknown example also lists the lesson's examples;
4. anything else is unexpected: logged with a short reference id that the member is shown and can quote.

Every reply is ephemeral, pings nobody, fits Discord's 2000 characters and says what to do next.  The
front-end's own errors live here (not in a feature package), so every feature can raise and recognise them.
"""

from __future__ import annotations

import logging
import secrets

import discord
from discord import app_commands

from bot.core.catalog import Catalog
from bot.core.errors import CorobotError, StorageError, UnknownExample
from bot.discord_app.context import NO_PINGS, Interaction, services_of
from bot.discord_app.i18n import error_text, t
from bot.discord_app.markdown import MESSAGE_LIMIT, clip

log = logging.getLogger(__name__)


class NotAdmin(app_commands.CheckFailure):
    """The member lacks Manage Server and every configured admin role."""


class RateLimited(CorobotError):
    def __init__(self, runs: int, per_seconds: float, retry_after: float) -> None:
        wait = max(retry_after, 1.0)
        super().__init__(message_id="run.rate_limited", params={"count": runs, "per": per_seconds, "retry": wait})


class QuizGone(CorobotError):
    def __init__(self) -> None:
        super().__init__(message_id="quiz.ended")


class QuizBusy(CorobotError):
    def __init__(self) -> None:
        super().__init__(message_id="quiz.busy")


class SessionBusy(CorobotError):
    def __init__(self) -> None:
        super().__init__(message_id="session.busy")


class SessionGone(CorobotError):
    def __init__(self) -> None:
        super().__init__(message_id="session.ended")


def describe(error: BaseException, locale: discord.Locale | str | None, catalog: Catalog | None = None) -> str:
    """The member-facing text for an expected error; raises `LookupError` for an unexpected one."""
    if isinstance(error, NotAdmin):
        return t(locale, "admin.not_admin")
    if isinstance(error, app_commands.NoPrivateMessage):
        return t(locale, "error.guild_only")
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        return t(locale, "error.command_outdated")
    if not isinstance(error, CorobotError):
        raise LookupError(type(error).__name__)
    text = error_text(error, locale)
    if isinstance(error, UnknownExample) and catalog is not None:
        try:
            examples = [e.id for e in catalog.get(error.lesson_id).examples]
        except CorobotError:
            examples = []
        if examples:
            text += " " + t(locale, "lesson.its_examples", examples=", ".join(f"`{x}`" for x in examples))
    return text


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = error.__cause__ if isinstance(error, app_commands.TransformerError) else error.original
        if inner is None:
            break
        error = inner
    return error


async def send_ephemeral(interaction: Interaction, text: str) -> None:
    """Reply privately, whether or not the interaction was already answered; never raises."""
    text = clip(text, MESSAGE_LIMIT)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
    except discord.HTTPException as exc:
        log.warning("could not send an error reply (interaction %s): %s", interaction.id, exc)


async def report_error(interaction: Interaction, error: BaseException) -> None:
    original = unwrap(error)
    try:
        text = describe(original, interaction.locale, services_of(interaction.client).catalog)
        if isinstance(original, StorageError):  # the member is told in general terms; the operator in full
            log.warning("interaction %s by %s: %s", interaction.id, interaction.user.id, original)
        else:
            log.info("interaction %s by %s refused: %s", interaction.id, interaction.user.id, original)
    except LookupError:
        ref = secrets.token_hex(3)
        command = interaction.command.qualified_name if interaction.command else interaction.data
        log.error("unexpected error [ref %s] in %s", ref, command, exc_info=original)
        text = t(interaction.locale, "error.unexpected", ref=ref)
    await send_ephemeral(interaction, text)
