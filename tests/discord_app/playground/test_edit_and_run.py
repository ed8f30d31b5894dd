"""Edit & run through the emulator: the form opens pre-filled (from a run message and from a lesson's example
page), the edited version streams with its times and timeline and ends with the difference from the original,
"Edit again" opens the member's last version — after a restart too — and an example longer than a form is
refused with a clear message and its code attached."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from tests.discord_app.playground.helpers import fields, final, reply_text

pytestmark = pytest.mark.timeout(120)

HELLO = """\
import asyncio
async def main():
    print("Hello")
    await asyncio.sleep(0.2)
    print("World")
asyncio.run(main())
"""
EDITED = """\
import asyncio

async def tick():
    await asyncio.sleep(0.1)

async def main():
    print("Hello")
    helper = asyncio.create_task(tick(), name="ticker")
    await asyncio.sleep(1.0)
    await helper
    print("World, later")

asyncio.run(main())
"""


async def test_the_form_opens_pre_filled_and_the_edit_streams_and_compares(tmp_path: Path, quiz_env) -> None:
    async with quiz_env(window=30.0) as env:
        fd = env.fd
        alice = fd.add_user("alice")
        ran = await fd.slash(alice, "run", {"lesson": "hello", "example": "hello"})
        await fd.wait_until(lambda: ran.original is not None and "cb:edit:hello:hello" in ran.original.custom_ids())
        opened = await fd.click(alice, ran.original, "cb:edit:hello:hello")
        form = fields(opened)
        assert opened.modal is not None and opened.modal["title"] == "Edit & run · hello"
        assert form["code"]["value"] == HELLO and form["code"]["max_length"] == 4000
        assert "4,000" in str(form["code"]["label"]) and form["stdin"]["required"] is False

        edited = await fd.submit_modal(alice, opened, {"code": EDITED})
        # it streams: an edit shows the first line (and the Stop button) before the run is over
        await fd.wait_until(lambda: edited.original is not None and "Hello" in edited.original.content, 10)
        msg = await final(fd, edited)
        live = [h["content"] for h in msg.history if "Hello" in h["content"] and "World" not in h["content"]]
        assert live, "no edit showed the run while it was going"
        content = msg.content
        assert content.startswith("-# 🧪 An edited version by <@") and "not the lesson's" in content
        assert "s  Hello" in content and "s  World, later" in content and "ticker" in content  # times, timeline
        assert "**Compared with the original** `hello`" in content
        before, after = content.split("⏱ ")[1].split(" (")[0].split(" → ")
        assert float(before.rstrip("s")) < 0.6 < float(after.rstrip("s"))  # 0.2 s before, ~1.0 s now
        assert "📝 output lines: 1 removed, 1 added · `World` → `World, later`" in content
        assert "🧵 tasks added: `ticker`" in content
        assert msg.custom_ids() == ["cb:edit:hello:hello"] and len(content) <= 2000

        again = await fd.click(alice, msg, "cb:edit:hello:hello")
        assert fields(again)["code"]["value"] == EDITED  # the member's last version, not the lesson's
        bob = fd.add_user("bob")
        assert fields(await fd.click(bob, msg, "cb:edit:hello:hello"))["code"]["value"] == HELLO  # bob's own

        await env.stop_bot()
        await env.start_bot()
        after_restart = await fd.click(alice, msg, "cb:edit:hello:hello")
        assert fields(after_restart)["code"]["value"] == EDITED


async def test_the_lesson_page_of_an_example_has_edit_and_run(make_env) -> None:
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        page = (await fd.slash(alice, "lesson", {"lesson": "hello"})).original
        assert page is not None and not any(c.startswith("cb:edit:") for c in page.custom_ids())  # a section page
        await fd.click(alice, page, "cb:lp:n:1:hello")
        await fd.click(alice, fd.message(page.id), "cb:lp:n:2:hello")
        assert "cb:edit:hello:hello" in fd.message(page.id).custom_ids()
        await fd.click(alice, fd.message(page.id), "cb:lp:n:3:hello")
        assert "cb:edit:hello:boom" in fd.message(page.id).custom_ids()
        opened = await fd.click(alice, fd.message(page.id), "cb:edit:hello:boom")
        assert fields(opened)["code"]["value"] == 'raise ValueError("boom")\n'
        done = await final(fd, await fd.submit_modal(alice, opened, {"code": "print('fixed')\n"}))
        assert "s  fixed" in done.content and "🔚 ❌ raised an exception → ✅ finished" in done.content


async def test_an_example_longer_than_a_form_is_refused_clearly(tmp_path: Path, make_env) -> None:
    body = "# " + "x" * 98 + "\n"
    code = body * 45 + "print('long')\n"  # 4,514 characters
    lesson = {"id": "long", "title": "Long", "examples": [{"id": "big", "code": code}]}
    (tmp_path / "lessons").mkdir(parents=True, exist_ok=True)
    (tmp_path / "lessons" / "long.yaml").write_text(_yaml(lesson), encoding="utf-8")
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        ran = await fd.slash(alice, "run", {"lesson": "long"})
        await fd.wait_until(lambda: ran.original is not None and "cb:edit:long:big" in ran.original.custom_ids())
        refused = await fd.click(alice, ran.original, "cb:edit:long:big")
        assert refused.modal is None
        text = reply_text(refused)
        assert refused.original is not None and refused.original.ephemeral
        assert f"{len(code)} characters" in text and "at most 4000" in text
        [attached] = refused.original.attachments
        assert attached.filename == "big.py" and attached.data.decode() == code


def _yaml(data: object) -> str:
    return textwrap.dedent(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
