"""Channel messages: attachments as multipart, validation, threads, allowed mentions."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest

from tests.fakediscord import FakeDiscord

from .conftest import DemoBot


def _text_channel(bot: DemoBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_multipart_attachment_recorded_with_bytes(fd: FakeDiscord, bot: DemoBot) -> None:
    channel = _text_channel(bot, fd.channel)
    data = bytes(range(256)) * 10
    sent = await channel.send("output", file=discord.File(io.BytesIO(data), "out.bin", description="raw"))
    stored = fd.message(sent.id)
    assert stored.attachments[0].data == data and stored.attachments[0].filename == "out.bin"
    assert stored.attachments[0].description == "raw"
    req = fd.requests_matching("POST", r"^/channels/\d+/messages$")[-1]
    assert req.json["content"] == "output" and req.files[0].field == "files[0]" and req.files[0].data == data
    assert sent.attachments[0].size == len(data)
    async with aiohttp.ClientSession() as s, s.get(sent.attachments[0].url) as r:
        assert await r.read() == data


async def test_interaction_followup_with_file(fd: FakeDiscord, bot: DemoBot) -> None:
    ix = await fd.slash(fd.add_user("alice"), "file")
    await fd.wait_until(lambda: ix.original is not None and ix.original.attachments)
    assert ix.original is not None and ix.original.attachments[0].data == b"print('hi')\n"


async def test_edit_keeps_or_replaces_attachments(fd: FakeDiscord, bot: DemoBot) -> None:
    channel = _text_channel(bot, fd.channel)
    sent = await channel.send("v1", file=discord.File(io.BytesIO(b"one"), "a.txt"))
    await sent.edit(content="v2")  # no attachments key: kept
    assert [a.data for a in fd.message(sent.id).attachments] == [b"one"]
    await sent.edit(content="v3", attachments=[discord.File(io.BytesIO(b"two"), "b.txt")])
    assert [a.data for a in fd.message(sent.id).attachments] == [b"two"]
    assert [h["content"] for h in fd.message(sent.id).history] == ["v1", "v2"]


async def test_discord_validation_errors(fd: FakeDiscord, bot: DemoBot) -> None:
    channel = _text_channel(bot, fd.channel)
    with pytest.raises(discord.HTTPException) as too_long:
        await channel.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    assert fd.messages() == []


async def test_allowed_mentions_recorded(fd: FakeDiscord, bot: DemoBot) -> None:
    alice = fd.add_user("alice")
    channel = _text_channel(bot, fd.channel)
    quiet = await channel.send(f"hi {alice.mention}", allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(f"hi {alice.mention}")
    assert fd.message(quiet.id).mentioned_user_ids() == []
    assert fd.message(quiet.id).allowed_mentions == {"parse": []}
    assert fd.message(loud.id).mentioned_user_ids() == [alice.id]


async def test_threads_from_message_and_channel(fd: FakeDiscord, bot: DemoBot) -> None:
    channel = _text_channel(bot, fd.channel)
    root = await channel.send("run #1")
    thread = await root.create_thread(name="run 1 output")
    assert thread.id == root.id and [t.id for t in fd.threads(fd.channel)] == [root.id]
    await thread.send("line 1")
    assert [m.content for m in fd.messages(thread.id)] == ["line 1"]
    other = await channel.create_thread(name="scratch", type=discord.ChannelType.public_thread)
    assert {t.name for t in fd.threads()} == {"run 1 output", "scratch"}
    assert bot.get_channel(other.id) is not None  # THREAD_CREATE reached the cache
