"""run_discord: token errors, command sync only when changed, SIGTERM finalises running messages."""

from __future__ import annotations

import asyncio
import os
import signal

from bot.discord_app.app import run_discord
from bot.discord_app.client import CorobotBot
from tests.discord_app.env import COMMANDS, emulated
from tests.fakediscord import running


async def test_missing_or_rejected_token_is_one_line_and_non_zero(tmp_path, capsys):
    async with emulated(tmp_path) as parts:
        assert await run_discord(parts.settings, None, parts.catalog, parts.runner) == 2
        assert await run_discord(parts.settings, "not-the-token", parts.catalog, parts.runner) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "DISCORD_TOKEN is not set" in err[0] and "rejected the token" in err[1]
    assert "not-the-token" not in "".join(err)


async def test_commands_sync_only_when_changed(tmp_path):
    async with emulated(tmp_path) as parts:
        for expected in (True, False):
            bot = CorobotBot(parts.settings, parts.catalog, parts.runner, guild_ready_timeout=0.05)
            async with running(bot, parts.fd):
                assert bot.synced is expected
        fd = parts.fd
        puts = fd.requests_matching("PUT", r"/applications/\d+/guilds/\d+/commands")
        assert len(puts) == 1
        assert sorted(c["name"] for c in fd.commands(fd.guild)) == COMMANDS


async def test_sigterm_stops_runs_and_edits_their_messages(tmp_path):
    async with emulated(tmp_path) as parts:
        fd = parts.fd
        run = run_discord(parts.settings, fd.token, parts.catalog, parts.runner, guild_ready_timeout=0.05)
        service = asyncio.create_task(run)
        await fd.wait_ready()
        await fd.wait_until(lambda: fd.commands(fd.guild))
        alice = fd.add_user("alice")
        ix = await fd.slash(alice, "run", {"lesson": "stream", "example": "slow"})
        await fd.wait_until(lambda: ix.original is not None and "started" in ix.original.content)
        started = asyncio.get_running_loop().time()
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(service, 15) == 0
        assert asyncio.get_running_loop().time() - started < 10
        content = fd.message(ix.original.id).content
        assert "restarting" in content and "s  started" in content
