"""/progress and /leaderboard show what storage holds (seeded through the real SQLite adapter)."""

from __future__ import annotations

import io
import re
import time

from PIL import Image

from bot.core.fonts import font_path
from bot.core.review.cards import Outcome
from bot.core.storage import AnswerRow, RunRecordRow
from bot.discord_app.progress.card import SIZE


async def test_progress_and_leaderboard_show_the_stored_numbers(quiz_env):
    async with quiz_env() as env:
        fd, storage = env.fd, env.storage
        assert storage is not None
        alice, bob, li = fd.add_user("alice"), fd.add_user("bob"), fd.add_user("li", locale="zh-CN")
        g = fd.guild
        await storage.mark_lesson(g, alice.id, "tasks", completed=True)
        await storage.mark_lesson(g, alice.id, "hello", completed=False)
        for status in ("ok", "ok", "timeout"):
            await storage.record_run(RunRecordRow(g, alice.id, "tasks", "two", status, 0.3))
        now, old = time.time(), time.time() - 20 * 86400  # `old` is inside the month, outside the week
        answers = [("q1", alice.id, now, True, 10), ("q2", alice.id, now, False, 0), ("q3", alice.id, now, True, 7)]
        answers += [("q1", bob.id, now, True, 5), ("q2", bob.id, old, True, 30), ("q1", li.id, now, True, 8)]
        for question, user, at, ok, points in answers:
            await storage.record_answer(g, AnswerRow("quiz", question, user, "x", at))
            await storage.score_answers("quiz", question, {user: (ok, points)})

        mine = await fd.slash(alice, "progress")
        await fd.wait_until(lambda: bool(mine.original and not mine.original.loading and mine.original.content))
        text = mine.original.content
        assert mine.original.ephemeral
        assert "Lessons started: 2 · completed: 1 (`tasks`)" in text
        assert "Examples run: 3 (2 finished ok)" in text
        assert "Quiz: 2/3 right · accuracy 67% · 17 points" in text

        week = (await fd.slash(alice, "leaderboard")).original.content
        ranked = [int(u) for u in re.findall(r"^\d+\. <@(\d+)>", week, re.M)]
        assert ranked == [alice.id, li.id, bob.id] and "(week)" in week
        assert f"1. <@{alice.id}> — 17 pts, 2 right" in week
        month = (await fd.slash(alice, "leaderboard", {"period": "month"})).original.content
        assert re.findall(r"^\d+\. <@(\d+)>", month, re.M)[0] == str(bob.id) and "35 pts" in month
        asked = await fd.slash(li, "progress")
        await fd.wait_until(lambda: bool(asked.original and not asked.original.loading and asked.original.content))
        zh = asked.original.content
        assert "你的进度" in zh and "答对 1/1" in zh
        commands = {c["name"]: c for c in fd.commands(fd.guild)}
        assert commands["quiz"]["name_localizations"]["zh-CN"] == "测验"
        assert commands["leaderboard"]["name_localizations"]["zh-CN"] == "排行榜"
        assert commands["study"]["options"][0]["name_localizations"]["zh-CN"] == "开始"


async def test_progress_card_image_with_its_text_rendered_once_per_change(quiz_env):
    async with quiz_env(window=20.0) as env:
        fd, storage = env.fd, env.storage
        assert storage is not None and env.learning is not None
        alice, li = fd.add_user("alice"), fd.add_user("li", locale="zh-CN")
        tasks = env.catalog.get("tasks")
        outcomes = [Outcome(alice.id, True, 3.0, 20.0)]
        await env.learning.record_answers(fd.guild, tasks, tasks.quiz[0], outcomes)
        await env.learning.record_answers(fd.guild, tasks, tasks.quiz[1], [Outcome(alice.id, False, 3.0, 20.0)])

        async def card(user):
            ix = await fd.slash(user, "progress")
            await fd.wait_until(lambda: bool(ix.original and not ix.original.loading and ix.original.attachments))
            return ix.original

        shown = await card(alice)
        assert shown.ephemeral
        [attachment] = shown.attachments
        image = Image.open(io.BytesIO(attachment.data))
        assert (image.format, image.size) == ("PNG", SIZE)
        # the text version, for screen readers: in the message and as the image's description
        assert "Lessons done: 0/3 · day streak: 1 (best 1) · reviews due: 0" in shown.content
        assert "Mastery by topic: general 50%" in shown.content
        sent = fd.requests_matching("POST", r"/webhooks/")[-1].json
        assert "Lessons done: 0/3" in sent["attachments"][0]["description"]
        cards = env.bot.get_cog("Progress").cards
        assert cards.renders == 1
        again = await card(alice)  # nothing changed: the cached card
        assert again.attachments[0].data == attachment.data and cards.renders == 1
        await env.learning.record_answers(fd.guild, tasks, tasks.quiz[1], [Outcome(alice.id, True, 3.0, 20.0)])
        changed = await card(alice)  # an answer changed the numbers: drawn again
        assert cards.renders == 2 and changed.attachments[0].data != attachment.data
        chinese = await card(li)
        assert "已完成课程：0/3" in chinese.content and cards.renders == 3
        assert Image.open(io.BytesIO(chinese.attachments[0].data)).size == SIZE
        assert font_path() is not None and "wqy" in str(font_path())  # .ci/run installs fonts-wqy-microhei
