"""/lessons and /lesson through the emulator: pages, filters, Run buttons, Chinese text, autocomplete."""

from __future__ import annotations


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
        odd = await env.fd.slash(alice, "lessons", {"tag": "x`y\n**z** [a](https://evil.example) " + "w" * 100})
        assert odd.original is not None
        shown = next(line for line in odd.original.content.splitlines() if line.startswith("-# filter:"))
        assert shown.count("`") == 2 and shown.endswith("…`") and "\n" not in shown  # one span, clipped


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
