"""/run and /stop through the emulator, as members see them: the streamed message, errors, limits, Stop."""

from __future__ import annotations

import io
import re

from PIL import Image

from bot.core.timeline_image import HATCH, RUNNING, WIDTH
from tests.discord_app.env import is_final


async def test_run_streams_one_message_with_times_and_summary(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "hello"})
        assert ix.deferred
        msg = await env.wait_final(ix)
        content = msg.content
        assert content.startswith("**Hello coroutines** · `hello`")
        times = re.findall(r"^\+(\d+\.\d{3})s  (\w+)$", content, re.M)
        assert [word for _, word in times] == ["Hello", "World"]
        assert float(times[1][0]) - float(times[0][0]) >= 0.15  # the 0.2 s sleep shows between the lines
        assert "✅ finished in" in content
        assert "Output as expected ✅" in content and "> one sleep of 0.2 s" in content
        assert not msg.ephemeral and [a.filename for a in msg.attachments] == ["run-timeline.png"]  # no output.txt
        image = Image.open(io.BytesIO(msg.attachments[0].data))  # the bytes the bot uploaded, multipart
        assert image.format == "PNG" and image.width == WIDTH
        colours = {colour for _, colour in image.convert("RGB").getcolors(1 << 16) or []}
        assert {RUNNING, HATCH} <= colours  # main ran, then waited in its sleep
        assert msg.allowed_mentions == {"parse": []}
        # exactly one message for the run: nothing else was posted in the channel
        assert [m.id for m in env.fd.messages() if not m.ephemeral] == [msg.id]
        # Run again -> a second run message
        again = await env.fd.click(alice, msg, "cb:run:a:hello:hello")
        second = await env.wait_final(again)
        assert second.id != msg.id and "s  World" in second.content


async def test_error_run_shows_named_status_and_traceback(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "hello", "example": "boom"})
        content = (await env.wait_final(ix)).content
        assert "❌ raised an exception" in content
        assert "ValueError: boom" in content and "```py" in content


async def test_failures_are_ephemeral_and_say_what_to_do(make_env):
    async with make_env(discord={"rate_limit": {"runs": 2, "per_seconds": 600}}) as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "nope"})
        assert ix.original is not None and ix.original.ephemeral
        assert "no lesson `nope`" in ix.original.content and "/lessons" in ix.original.content
        ix = await env.fd.slash(alice, "run", {"lesson": "hello", "example": "missing"})
        assert ix.original is not None and ix.original.ephemeral
        assert "`hello`, `boom`" in ix.original.content
        slow = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "slow"})
        await env.fd.wait_until(lambda: slow.original is not None and "started" in slow.original.content)
        busy = await env.fd.slash(alice, "run", {"lesson": "hello"})
        assert busy.original is not None and busy.original.ephemeral and "/stop" in busy.original.content
        stop = await env.fd.slash(alice, "stop")
        assert stop.original is not None and stop.original.ephemeral and "Stopping 1" in stop.original.content
        await env.wait_final(slow)
        second = await env.fd.slash(alice, "run", {"lesson": "hello"})
        await env.wait_final(second)
        third = await env.fd.slash(alice, "run", {"lesson": "hello"})  # 2 admitted already: rate limited
        assert third.original is not None and third.original.ephemeral
        assert "limited to 2 per 600 seconds" in third.original.content


async def test_a_busy_user_hears_about_the_running_example_before_the_rate_limit(make_env):
    async with make_env(discord={"rate_limit": {"runs": 1, "per_seconds": 600}}) as env:
        alice = env.fd.add_user("alice")
        slow = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "slow"})
        await env.fd.wait_until(lambda: slow.original is not None and "started" in slow.original.content)
        again = await env.fd.slash(alice, "run", {"lesson": "hello"})  # busy and at the rate limit: busy wins
        assert again.original is not None and again.original.ephemeral and "/stop" in again.original.content
        await env.fd.slash(alice, "stop")
        await env.wait_final(slow)
        later = await env.fd.slash(alice, "run", {"lesson": "hello"})
        assert later.original is not None and "limited to 1 per 600 seconds" in later.original.content


async def test_stop_command_and_button_owner_and_others(make_env):
    async with make_env() as env:
        alice, bob = env.fd.add_user("alice"), env.fd.add_user("bob")
        nothing = await env.fd.slash(bob, "stop")
        assert nothing.original is not None and "nothing running" in nothing.original.content
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "slow"})
        await env.fd.wait_until(lambda: ix.original is not None and "started" in ix.original.content)
        msg = ix.original
        stop_id = next(c for c in msg.custom_ids() if c.startswith("cb:stop:"))
        refused = await env.fd.click(bob, msg, stop_id)
        assert refused.followups or refused.original
        reply = refused.messages[-1]
        assert reply.ephemeral and "Only the person who started this run" in reply.content
        assert not is_final(env.fd.message(msg.id))
        await env.fd.click(alice, env.fd.message(msg.id), stop_id)
        final = await env.wait_final(ix)
        assert "⏹️ stopped" in final.content and "s  started" in final.content


BLOCKING = """\
id: blocking
title: {en: Blocking, zh-CN: 阻塞}
examples:
  - id: sleepy
    code: |
      import asyncio, time

      async def main():
          worker = asyncio.create_task(asyncio.sleep(5), name="worker")
          time.sleep(0.2)
          worker.cancel()
          await asyncio.sleep(0)

      asyncio.run(main())
"""


async def test_a_chinese_member_gets_the_timeline_legend_in_chinese(make_env):
    async with make_env() as env:
        (env.lessons / "blocking.yaml").write_text(BLOCKING, encoding="utf-8")
        assert env.catalog.refresh().ok
        li, alice = env.fd.add_user("li", locale="zh-CN"), env.fd.add_user("alice")
        zh = (await env.wait_final(await env.fd.slash(li, "run", {"lesson": "blocking"}))).content
        assert "任务时间线：" in zh and "▓ 事件循环被阻塞" in zh and "x 已取消" in zh
        assert "event loop blocked" not in zh and "cancelled" not in zh
        en = (await env.wait_final(await env.fd.slash(alice, "run", {"lesson": "blocking"}))).content
        assert "Tasks:" in en and "▓ event loop blocked" in en and "x cancelled" in en


async def test_an_option_thousands_of_characters_long_is_quoted_as_a_short_prefix(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        typed = "no-such-lesson-" + "x" * 5985  # Discord lets a string option carry 6000 characters
        for command, options in (
            ("run", {"lesson": typed}),
            ("lesson", {"lesson": typed}),
            ("quiz", {"lesson": typed}),
        ):
            ix = await env.fd.slash(alice, command, options)
            assert ix.original is not None and ix.original.ephemeral, command
            text = ix.original.content
            assert len(text) < 300 and "There is no lesson `no-such-lesson-xxx" in text, (command, text)
        example = await env.fd.slash(alice, "run", {"lesson": "hello", "example": typed})
        assert example.original is not None and len(example.original.content) < 300
        assert (
            "has no example `no-such-lesson-xx" in example.original.content
            and "`hello`, `boom`" in example.original.content
        )
