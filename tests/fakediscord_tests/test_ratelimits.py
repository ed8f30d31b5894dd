"""Rate-limit headers, 429s and 500s: discord.py must retry and pace itself against the emulator."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from tests.fakediscord import FakeDiscord, Limit, running

from .conftest import DemoBot


def _text_channel(bot: DemoBot, channel_id: int) -> discord.TextChannel:
    channel = bot.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_channel_message_bucket_headers_and_429() -> None:
    async with FakeDiscord(channel_messages=Limit(5, 5.0)) as fd:
        url = f"{fd.api_base}/channels/{fd.channel}/messages"
        async with aiohttp.ClientSession(headers={"Authorization": f"Bot {fd.token}"}) as s:
            remaining = []
            for i in range(5):
                async with s.post(url, json={"content": f"m{i}"}) as r:
                    assert r.status == 200 and r.headers["Content-Type"] == "application/json"
                    remaining.append(int(r.headers["X-RateLimit-Remaining"]))
                    assert r.headers["X-RateLimit-Limit"] == "5" and r.headers["X-RateLimit-Bucket"]
                    assert 0 < float(r.headers["X-RateLimit-Reset-After"]) <= 5.0
            async with s.post(url, json={"content": "too many"}) as r:
                body = await r.json()
                assert r.status == 429 and r.headers["Via"] and int(r.headers["Retry-After"]) >= 1
                assert set(body) == {"message", "retry_after", "global"} and body["global"] is False
                assert 0 < body["retry_after"] <= 5.0
            other = fd.add_channel("other")  # buckets are per channel
            async with s.post(f"{fd.api_base}/channels/{other.id}/messages", json={"content": "x"}) as r:
                assert r.status == 200
        assert remaining == [4, 3, 2, 1, 0]
        assert [m.content for m in fd.messages()] == [f"m{i}" for i in range(5)]


async def test_429_on_an_edit_is_retried_and_lands(fd: FakeDiscord, bot: DemoBot) -> None:
    channel = _text_channel(bot, fd.channel)
    msg = await channel.send("draft")
    fd.fail_next("PATCH", r"^/channels/\d+/messages/\d+$", status=429, retry_after=0.3)
    await msg.edit(content="final")
    patches = fd.requests_matching("PATCH", r"/messages/")
    assert [r.status for r in patches] == [429, 200]
    assert patches[1].time - patches[0].time >= 0.25  # waited retry_after before retrying
    assert fd.message(msg.id).content == "final" and fd.message(msg.id).edits == 1


async def test_429_on_an_interaction_edit_is_retried(fd: FakeDiscord, bot: DemoBot) -> None:
    fd.fail_next("PATCH", r"^/webhooks/\d+/[^/]+/messages/", status=429, retry_after=0.2)
    ix = await fd.slash(fd.add_user("alice"), "run", {"lesson": "gather"})
    await fd.wait_until(lambda: ix.original is not None and ix.original.content.startswith("done"))
    assert [r.status for r in fd.requests_matching("PATCH", r"^/webhooks/")] == [429, 200]


async def test_500_is_retried(fd: FakeDiscord, bot: DemoBot) -> None:
    channel = _text_channel(bot, fd.channel)
    fd.fail_next("POST", r"^/channels/\d+/messages$", status=500)
    msg = await channel.send("after a 500")
    posts = fd.requests_matching("POST", r"^/channels/\d+/messages$")
    assert [r.status for r in posts] == [500, 200]
    assert [m.id for m in fd.messages()] == [msg.id]


async def test_headers_make_discordpy_pace_rapid_sends_without_429() -> None:
    period = 1.5
    async with FakeDiscord(channel_messages=Limit(5, period)) as fd:
        bot = DemoBot(fd.guild)
        async with running(bot, fd):
            channel = _text_channel(bot, fd.channel)
            sent = await asyncio.gather(*(channel.send(f"line {i}") for i in range(8)))
        posts = fd.requests_matching("POST", r"^/channels/\d+/messages$")
        assert [r.status for r in posts] == [200] * 8
        assert sorted(m.content for m in fd.messages()) == sorted(m.content for m in sent)
        # Five fit in the first window; the rest waited for the reset instead of being refused.
        assert posts[5].time - posts[0].time >= period * 0.9
