"""`run_discord`: the Discord service's lifecycle, called by `bot/__main__.py` with built resources."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import yarl

from bot.config import Settings
from bot.core.catalog import Catalog
from bot.core.storage import Storage
from bot.discord_app.client import CorobotBot, stop_on_signals

if TYPE_CHECKING:
    from bot.core.runner import Runner

log = logging.getLogger(__name__)


def point_at(settings: Settings) -> None:
    """Aim discord.py's REST base and gateway at `settings.discord` (a local emulator in tests)."""
    discord.http.Route.BASE = settings.discord.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord.gateway_url)


def _error(message: str) -> None:
    print(f"corobot: {message}", file=sys.stderr)


async def run_discord(
    settings: Settings,
    token: str | None,
    catalog: Catalog,
    runner: Runner,
    storage: Storage | None = None,
    **options: Any,
) -> int:
    """Run the bot until it is closed (SIGINT/SIGTERM); 0 on a clean stop, 2 on a missing/rejected token,
    1 when Discord cannot be reached.  `storage` (opened by the caller) keeps progress, quizzes and sessions.
    `options` go to the `Bot` (tests pass `guild_ready_timeout`)."""
    if not token:
        _error("DISCORD_TOKEN is not set; export the bot token from the Discord developer portal and retry")
        return 2
    point_at(settings)
    bot = CorobotBot(settings, catalog, runner, storage=storage, **options)
    signal_tasks: set[asyncio.Task[None]] = set()
    installed = stop_on_signals(bot, signal_tasks)
    loop = asyncio.get_running_loop()
    try:
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        _error("Discord rejected the token in DISCORD_TOKEN (401); check it in the developer portal and retry")
        return 2
    except discord.PrivilegedIntentsRequired as exc:
        _error(f"Discord refused the gateway connection: {exc}")
        return 2
    except (aiohttp.ClientError, discord.GatewayNotFound, OSError) as exc:
        _error(f"cannot reach Discord at {settings.discord.api_base_url}: {type(exc).__name__}: {exc}")
        return 1
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)
        if signal_tasks:
            await asyncio.gather(*signal_tasks, return_exceptions=True)
    log.info("discord front-end stopped")
    return 0
