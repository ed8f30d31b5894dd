"""/progress and /leaderboard show what storage holds (seeded through the real SQLite adapter)."""

from __future__ import annotations

import re
import time

from bot.core.storage import AnswerRow, RunRecordRow


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
        zh = (await fd.slash(li, "progress")).original.content
        assert "你的进度" in zh and "答对 1/1" in zh
        commands = {c["name"]: c for c in fd.commands(fd.guild)}
        assert commands["quiz"]["name_localizations"]["zh-CN"] == "测验"
        assert commands["leaderboard"]["name_localizations"]["zh-CN"] == "排行榜"
        assert commands["study"]["options"][0]["name_localizations"]["zh-CN"] == "开始"
