"""Pointing an unmodified discord.py client at a :class:`FakeDiscord`, and running it for the length of a test."""

# ruff: noqa: ASYNC109  (``timeout=`` parameters are part of the documented test API)

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterator

import discord
import discord.gateway
import discord.http
import yarl

from .server import FakeDiscord

log = logging.getLogger(__name__)


@contextlib.contextmanager
def patched_endpoints(fd: FakeDiscord) -> Iterator[None]:
    """Set ``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY`` to the emulator; restore after.

    Both are class attributes read on every request / connection, so they are process-wide.
    """
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fd.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fd.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running(client: discord.Client, fd: FakeDiscord, *, timeout: float = 15.0) -> AsyncIterator[discord.Client]:
    """Start ``client`` against ``fd`` and wait for ``on_ready``; close it on exit.

    Build the client with ``guild_ready_timeout=0.05`` or ``on_ready`` comes 2 s after GUILD_CREATE.
    If the client task dies (bad token, crash), its exception is raised here instead of a timeout.
    """
    with patched_endpoints(fd):
        task = asyncio.create_task(client.start(fd.token), name="fakediscord-client")
        ready = asyncio.create_task(client.wait_until_ready(), name="fakediscord-wait-ready")
        try:
            done, _ = await asyncio.wait({task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if task in done:
                task.result()  # raises the client's error
                raise RuntimeError("discord client stopped before it was ready")
            if ready not in done:
                raise TimeoutError(f"discord client not ready after {timeout}s; requests: {fd.requests[-8:]}")
            yield client
        finally:
            ready.cancel()
            await client.close()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
