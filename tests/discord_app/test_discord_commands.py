"""Every command and button, through the emulator, as users see them."""

from __future__ import annotations

import re

from tests.discord_app.conftest import is_final


async def test_help_is_ephemeral_and_names_the_commands(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "help")
        msg = ix.original
        assert msg is not None and msg.ephemeral
        for command in ("/lessons", "/lesson", "/run", "/stop"):
            assert command in msg.content


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
        assert not msg.ephemeral and not msg.attachments
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


async def test_lessons_catalogue_pages_and_filters(make_env):
    async with make_env(extra_lessons=9) as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "lessons")
        first = ix.original
        assert first is not None and "(11)" in first.content and "Page 1/2" in first.content
        page1 = first.content
        next_id = next(c for c in first.custom_ids() if c.startswith("cb:ls:n:"))
        await env.fd.click(alice, first, next_id)
        page2 = env.fd.message(first.id).content
        assert "Page 2/2" in page2
        titles = ["Hello coroutines", "Streaming output", *(f"Filler {i:02d}" for i in range(9))]
        assert all((page1 + page2).count(f"**{title}**") == 1 for title in titles)
        filtered = await env.fd.slash(alice, "lessons", {"tag": "output"})
        assert filtered.original is not None
        assert "Streaming output" in filtered.original.content and "Filler" not in filtered.original.content
        level = await env.fd.slash(alice, "lessons", {"level": "beginner"})
        assert level.original is not None and "(1)" in level.original.content


async def test_lesson_sections_buttons_and_run_button(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "lesson", {"lesson": "hello"})
        msg = ix.original
        assert msg is not None
        assert "# Hello coroutines" in msg.content and "Section 1/2: Defining one" in msg.content
        assert msg.custom_ids() == ["cb:lp:p:0:hello", "cb:lp:n:1:hello", "cb:run:r:hello:hello", "cb:run:r:hello:boom"]
        await env.fd.click(alice, msg, "cb:lp:n:1:hello")
        assert "Section 2/2: Running one" in env.fd.message(msg.id).content
        await env.fd.click(alice, env.fd.message(msg.id), "cb:lp:n:2:hello")
        assert "Example 1/2" in env.fd.message(msg.id).content and "```py" in env.fd.message(msg.id).content
        run = await env.fd.click(alice, env.fd.message(msg.id), "cb:run:r:hello:hello")
        final = await env.wait_final(run)
        assert final.id != msg.id and "s  World" in final.content


async def test_chinese_user_gets_chinese_lesson_text_and_strings(make_env):
    async with make_env() as env:
        li = env.fd.add_user("li", locale="zh-CN")
        ix = await env.fd.slash(li, "lesson", {"lesson": "hello"})
        assert ix.original is not None
        assert "# 你好协程" in ix.original.content and "第 1/2 章：定义协程" in ix.original.content
        assert "使用 async def 定义。" in ix.original.content
        run = await env.fd.slash(li, "run", {"lesson": "hello"})
        content = (await env.wait_final(run)).content
        assert "**你好协程**" in content and "✅ 完成" in content and "> 一次 0.2 秒的睡眠" in content
        choices = await env.fd.autocomplete(li, "lesson", {"lesson": "你好"}, focused="lesson")
        assert [c["value"] for c in choices] == ["hello"]


async def test_autocomplete_lessons_and_examples(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        choices = await env.fd.autocomplete(alice, "run", {"lesson": "stre"}, focused="lesson")
        assert [c["value"] for c in choices] == ["stream"]
        examples = await env.fd.autocomplete(alice, "run", {"lesson": "stream", "example": "s"}, focused="example")
        assert [c["value"] for c in examples] == ["slow", "short", "unsafe"]


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


async def test_reload_refused_for_members_and_reports_broken_file_for_admins(make_env):
    async with make_env() as env:
        member = env.fd.add_user("member")
        admin = env.fd.add_user("admin", admin=True)
        refused = await env.fd.slash(member, "reload")
        assert refused.original is not None and refused.original.ephemeral
        assert "Manage Server" in refused.original.content
        (env.lessons / "broken.yaml").write_text("id: broken\ntitle: Broken\nexamples:\n  - id: x\n    cod: 1\n")
        ok = await env.fd.slash(admin, "reload")
        assert ok.original is not None and ok.original.ephemeral
        text = ok.original.content
        assert "broken.yaml:5" in text, text
        assert "3 lesson(s) available" not in text and "2 lesson(s) available" in text
