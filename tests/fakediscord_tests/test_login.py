"""Login, READY/GUILD_CREATE and command sync, seen from a real discord.py bot."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fakediscord import FakeDiscord, patched_endpoints

from .conftest import DemoBot


async def test_login_and_ready_populate_the_bots_cache(fd: FakeDiscord, bot: DemoBot) -> None:
    assert bot.user is not None and bot.user.id == fd.application_id
    assert bot.application_id == fd.application_id
    guild = bot.get_guild(fd.guild)
    assert guild is not None and guild.me is not None
    channel = guild.get_channel(fd.channel)
    assert isinstance(channel, discord.TextChannel)
    assert channel.permissions_for(guild.me).send_messages
    logins = [r for r in fd.requests if r.path in ("/users/@me", "/oauth2/applications/@me")]
    assert [r.status for r in logins] == [200, 200] and all(r.authorized for r in logins)
    assert fd.gateway.identifies == 1
    identify = next(p for p in fd.gateway.received if p["op"] == 2)
    assert identify["d"]["intents"] == discord.Intents.default().value


async def test_wrong_token_is_refused(fd: FakeDiscord) -> None:
    client = discord.Client(intents=discord.Intents.none())
    with patched_endpoints(fd), pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert fd.requests[-1].status == 401
    async with aiohttp.ClientSession() as s, s.get(f"{fd.api_base}/users/@me") as r:
        assert r.status == 401 and r.headers["Content-Type"] == "application/json"


async def test_command_sync_is_recorded_per_scope(fd: FakeDiscord, bot: DemoBot) -> None:
    puts = fd.requests_matching("PUT", r"^/applications/\d+/(guilds/\d+/)?commands$")
    assert [r.path for r in puts] == [
        f"/applications/{fd.application_id}/guilds/{fd.guild}/commands",
        f"/applications/{fd.application_id}/commands",
    ]
    guild_names = {c["name"] for c in fd.commands(fd.guild)}
    assert guild_names == {"run", "menu", "feedback", "admin", "quiz", "slow", "file", "steps"}
    assert {c["name"] for c in fd.commands()} == guild_names
    run = next(c for c in fd.commands(fd.guild) if c["name"] == "run")
    lesson = next(o for o in run["options"] if o["name"] == "lesson")
    assert lesson["autocomplete"] is True and lesson["required"] is True
    assert run["guild_id"] == str(fd.guild)
    # discord.py parses what the emulator answered; fetching gives the same ids back.
    fetched = await bot.tree.fetch_commands(guild=discord.Object(fd.guild))
    assert {c.id for c in fetched} == {int(c["id"]) for c in fd.commands(fd.guild)}


async def test_invalid_command_name_is_rejected(fd: FakeDiscord, bot: DemoBot) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fd.token}"}) as s:
        url = f"{fd.api_base}/applications/{fd.application_id}/commands"
        async with s.put(url, json=[{"name": "Run Lesson", "description": "x", "type": 1}]) as r:
            body = await r.json()
    assert r.status == 400 and body["code"] == 50035
    assert {c["name"] for c in fd.commands()} == {c["name"] for c in fd.commands(fd.guild)}  # unchanged
