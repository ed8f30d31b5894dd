"""`run_discord`: the Discord service's lifecycle (token, signals, exit status), called by `bot/__main__.py`
with the resources it built."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import yarl

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.runs import RunnerLike
from bot.core.storage import Storage
from bot.core.tasks import OwnedTasks
from bot.discord_app.client import CorobotBot, make_bot
from bot.locales import t

log = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """Aim discord.py's REST base and gateway at `settings.discord` (a local emulator in tests)."""
    discord.http.Route.BASE = settings.discord.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


PROG = "corobot"


def _error(locale: str | None, msgid: str, **params: object) -> None:
    print(f"{PROG}: {t(locale, msgid, **params)}", file=sys.stderr)


async def run_discord(
    settings: Settings,
    token: str | None,
    catalog: Catalog,
    runner: RunnerLike,
    storage: Storage | None = None,
    on_bot: Callable[[CorobotBot], None] | None = None,
    **options: Any,
) -> int:
    """Run the bot until it is closed (SIGINT/SIGTERM); 0 on a clean stop, 2 on a missing/rejected token,
    1 when Discord cannot be reached.  `storage` (opened by the caller) keeps progress, quizzes and sessions.
    `options` go to the `Bot` (tests pass `guild_ready_timeout`; a deployment of several processes `peers`; the
    metrics an `http_trace`); `on_bot` sees the bot once built (the health endpoint checks its connection)."""
    locale = settings.locale
    if not token:
        _error(locale, "discord.token_missing")
        return 2
    point_at(settings)
    try:
        return await _serve(settings, token, catalog, runner, storage, on_bot, options)
    except discord.PrivilegedIntentsRequired as exc:
        if not settings.playground.rerun_on_edit:
            _error(locale, "discord.refused", detail=str(exc))
            return 2
    # Only the message content intent is privileged among ours: without it, edited messages are not re-run.
    log.warning(
        "Discord refused the message content intent (enable it in the developer portal, Bot > Privileged Gateway "
        "Intents); starting without it: edited messages are not re-run (playground.rerun_on_edit)"
    )
    playground = settings.playground.model_copy(update={"rerun_on_edit": False})
    without = settings.model_copy(update={"playground": playground})
    try:
        return await _serve(without, token, catalog, runner, storage, on_bot, options)
    except discord.PrivilegedIntentsRequired as exc:
        _error(locale, "discord.refused", detail=str(exc))
        return 2


async def _serve(
    settings: Settings,
    token: str,
    catalog: Catalog,
    runner: RunnerLike,
    storage: Storage | None,
    on_bot: Callable[[CorobotBot], None] | None,
    options: dict[str, Any],
) -> int:
    """One bot, until it is closed; raises `PrivilegedIntentsRequired` for the caller to decide."""
    locale = settings.locale
    bot = make_bot(settings, catalog, runner, storage=storage, **options)
    if on_bot is not None:
        on_bot(bot)
    signal_tasks = OwnedTasks()
    installed = stop_on_signals(bot, signal_tasks)
    loop = asyncio.get_running_loop()
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        _error(locale, "discord.token_rejected")
        return 2
    except (aiohttp.ClientError, discord.GatewayNotFound, OSError) as exc:
        _error(locale, "discord.unreachable", url=settings.discord.api_base_url, error=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        await signal_tasks.wait()
    log.info("discord front-end stopped")
    return 0


def stop_on_signals(bot: CorobotBot, tasks: OwnedTasks) -> list[int]:
    """SIGINT/SIGTERM -> `bot.close()` (once); returns the signals installed (for removal)."""
    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def on_signal(signum: int) -> None:
        log.info("received %s; shutting down", signal.Signals(signum).name)
        tasks.spawn(bot.close(), name="shutdown", key="shutdown")  # a second signal joins the first shutdown

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, on_signal, signum)
            installed.append(signum)
        except (NotImplementedError, RuntimeError):
            log.debug("cannot install a handler for signal %s", signum)
    return installed
