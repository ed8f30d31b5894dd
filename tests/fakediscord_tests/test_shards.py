"""Sharding: several sessions, each receiving only its shard's guilds and their interactions."""

from __future__ import annotations

import contextlib

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import FakeDiscord, running

pytestmark = pytest.mark.timeout(60)


class ShardBot(commands.AutoShardedBot):
    def __init__(self, **options: object) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.none(), guild_ready_timeout=0.05, **options)
        self.pinged: list[tuple[int | None, int | None]] = []

        @app_commands.command(name="ping", description="ping")
        async def ping(interaction: discord.Interaction) -> None:
            self.pinged.append((interaction.guild_id, interaction.guild.shard_id if interaction.guild else None))
            await interaction.response.send_message("pong")

        self.tree.add_command(ping)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py waits 5 s between shards otherwise


async def test_two_processes_each_get_their_shards_guilds() -> None:
    async with FakeDiscord(shards=2) as fd:
        other = fd.add_guild("second guild", shard=1 - fd.shard_of(fd.guild))
        alice = fd.add_user("alice")
        first, second = ShardBot(shard_count=2, shard_ids=[0]), ShardBot(shard_count=2, shard_ids=[1])
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(running(first, fd))
            await stack.enter_async_context(running(second, fd))
            assert fd.gateway.ready_shards == {0, 1}
            by_shard = {0: first, 1: second}
            home, away = by_shard[fd.shard_of(fd.guild)], by_shard[fd.shard_of(other.guild_id)]
            assert [g.id for g in home.guilds] == [fd.guild]
            assert [g.id for g in away.guilds] == [other.guild_id]
            identifies = sorted(tuple(p["d"]["shard"]) for p in fd.gateway.received if p["op"] == 2)
            assert identifies == [(0, 2), (1, 2)]
            await fd.slash(alice, "ping", channel=other.id)
            await fd.slash(alice, "ping")
            assert away.pinged == [(other.guild_id, fd.shard_of(other.guild_id))]
            assert home.pinged == [(fd.guild, fd.shard_of(fd.guild))]


async def test_one_process_asks_for_the_shard_count() -> None:
    async with FakeDiscord(shards=2) as fd:
        other = fd.add_guild("second guild", shard=1 - fd.shard_of(fd.guild))
        bot = ShardBot()
        async with running(bot, fd):
            assert bot.shard_count == 2 and sorted(bot.shards) == [0, 1]
            assert {g.id for g in bot.guilds} == {fd.guild, other.guild_id}
            assert fd.requests_matching("GET", r"^/gateway/bot$")
