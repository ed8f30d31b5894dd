"""/exercise through the emulator: the card, the form pre-filled with the starting code, a wrong submission
graded part by part with a hint, then a right one with its points — recorded once, whatever is submitted
after — in /progress and the leaderboard; Chinese members get Chinese text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.storage.sql import SqlStorage
from tests.core.test_exercises import LESSON
from tests.discord_app.playground.helpers import fields, final

pytestmark = pytest.mark.timeout(120)


def add_lesson(tmp_path: Path) -> None:
    (tmp_path / "lessons").mkdir(parents=True, exist_ok=True)
    (tmp_path / "lessons" / "overlap.yaml").write_text(LESSON, encoding="utf-8")


async def test_an_exercise_graded_wrong_then_right_with_points_once(tmp_path: Path, make_env) -> None:
    add_lesson(tmp_path)
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        card = (await fd.slash(alice, "exercise", {"lesson": "overlap"})).original
        assert card is not None and "## Exercise: Three downloads in 0.3 s" in card.content
        assert "Make them overlap." in card.content and "```py" in card.content
        assert "uses `create_task` · no `time.sleep` · 15 points" in card.content
        assert card.custom_ids() == ["cb:ex:o:overlap:fast", "cb:ex:n:overlap:fast"]

        opened = await fd.click(alice, card, "cb:ex:o:overlap:fast")
        form = fields(opened)
        assert opened.modal is not None and opened.modal["title"] == "Exercise · fast" and list(form) == ["code"]
        starter = str(form["code"]["value"])
        assert starter.startswith("import asyncio") and "await dl(n)" in starter

        wrong = await final(fd, await fd.submit_modal(alice, opened, {}))
        text = wrong.content
        assert text.startswith("-# 🧪 Exercise submission by <@") and "s  done c" in text
        assert "Expected ~0.30s (±0.20), took 0." in text and "❌" in text  # the time, from the run
        assert "Output as expected ✅" in text and "Tasks:\n```\nmain " in text  # which parts, with the timeline
        assert "❌ uses `create_task`" in text and "✅ does not use `time.sleep`" in text
        assert "❌ **Not yet**: 2 of 5 checks failed." in text and "💡 Hint 1/2: Start them all first." in text
        assert wrong.custom_ids() == ["cb:ex:o:overlap:fast", "cb:ex:n:overlap:fast"]

        again = await fd.click(alice, wrong, "cb:ex:o:overlap:fast")
        assert fields(again)["code"]["value"] == starter  # the last submission
        sequential = '    for n in "abc":\n        await dl(n)\n'
        overlapping = '    await asyncio.gather(*(asyncio.create_task(dl(n)) for n in "abc"))\n'
        solution = starter.replace(sequential, overlapping)
        assert solution != starter
        right = await final(fd, await fd.submit_modal(alice, again, {"code": solution}))
        assert "🎉 **Passed!** +15 points." in right.content and "✅ uses `create_task`" in right.content
        reopened = await fd.click(alice, right, "cb:ex:o:overlap:fast")
        once_more = await final(fd, await fd.submit_modal(alice, reopened, {}))
        assert "Passed** again (the points were counted the first time)" in once_more.content
        fresh = await fd.click(alice, right, "cb:ex:n:overlap:fast")
        assert fields(fresh)["code"]["value"] == starter  # Start over: the starting code

        asked = await fd.slash(alice, "progress")
        await fd.wait_until(lambda: bool(asked.original and not asked.original.loading and asked.original.content))
        assert "Quiz: 1/1 right · accuracy 100% · 15 points" in asked.original.content  # the progress store's
        storage = env.bot.services.storage
        assert isinstance(storage, SqlStorage)
        rows = await storage.fetch("SELECT quiz_id, question_id, user_id, correct, points FROM answers")
        assert rows == [(f"exercise:{fd.guild}", "overlap/fast", alice.id, 1, 15)]


async def test_a_chinese_member_gets_the_exercise_in_chinese(tmp_path: Path, make_env) -> None:
    add_lesson(tmp_path)
    async with make_env() as env:
        fd = env.fd
        li = fd.add_user("li", locale="zh-CN")
        card = (await fd.slash(li, "exercise", {"lesson": "overlap", "exercise": "fast"})).original
        assert card is not None and "练习：0.3 秒完成三次下载" in card.content and "让它们重叠。" in card.content
        opened = await fd.click(li, card, "cb:ex:o:overlap:fast")
        graded = await final(fd, await fd.submit_modal(li, opened, {}))
        assert "还没通过" in graded.content and "提示 1/2：先把它们全部启动。" in graded.content
        unknown = await fd.slash(li, "exercise", {"lesson": "overlap", "exercise": "nope"})
        assert unknown.original is not None and unknown.original.ephemeral and "fast" in unknown.original.content
