"""/study start through the emulator: host controls, attendance, run, quiz, summary, stored progress, one
session per channel, refusals for non-hosts, and a restart in the middle of a session."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable

from tests.discord_app.env import QuizEnv, custom_id
from tests.fakediscord import FakeMessage, FakeUser


def card_of(env: QuizEnv, channel: int) -> FakeMessage:
    cards = env.bot_messages(channel, text="Study session: Two tasks")
    assert len(cards) == 1
    return env.fd.message(cards[0].id)


async def test_session_start_join_next_run_quiz_end(quiz_env):
    async with quiz_env(window=2.0) as env:
        fd = env.fd
        host, bob, carol = fd.add_user("host"), fd.add_user("bob"), fd.add_user("carol")
        started = await fd.slash(host, "study", {"lesson": "tasks"}, subcommand="start")
        await fd.wait_until(lambda: started.original is not None and "started in" in started.original.content)
        assert started.original is not None and started.original.ephemeral
        (thread,) = fd.threads(fd.channel)
        card = card_of(env, thread.id)
        assert f"Host: <@{host.id}>" in card.content and "Press Join" in card.content
        sid = custom_id(card, r"cs:j:").split(":")[2]

        busy = await fd.slash(bob, "study", {"lesson": "tasks"}, subcommand="start")
        assert busy.original is not None and busy.original.ephemeral and "already running" in busy.original.content

        await fd.click(bob, card, f"cs:j:{sid}")
        assert f"<@{bob.id}>" in card_of(env, thread.id).content
        refused = await fd.click(carol, card, f"cs:n:{sid}")
        assert refused.original is not None and refused.original.ephemeral
        assert "Only the session's host" in refused.original.content
        assert "Section" not in card_of(env, thread.id).content

        await fd.click(host, card, f"cs:n:{sid}")
        assert "Section 1/2: Starting tasks" in card_of(env, thread.id).content

        run = await fd.click(host, card, f"cs:r:{sid}")
        await fd.wait_until(lambda: run.original is not None and "✅ finished" in run.original.content, 20)
        assert run.original is not None and run.original.channel_id == thread.id
        assert re.search(r"^\+\d+\.\d{3}s  World$", run.original.content, re.M)

        await fd.click(host, card, f"cs:q:{sid}")
        question = await env.question(1, thread.id)
        await fd.click(bob, question, custom_id(question, r"cq:c:\w+:0:0$"))
        await fd.click(carol, question, custom_id(question, r"cq:c:\w+:0:2$"))  # answering joins carol
        reveal = await env.wait_message("Real time:", thread.id, limit=20)
        assert "Answers (2)" in reveal.content and f"<@{bob.id}> +10" in reveal.content

        await fd.click(host, card, f"cs:e:{sid}")
        summary = await env.wait_message("Study session ended", thread.id)
        assert "3 participants · 1 question · 1 example run" in summary.content
        assert f"<@{bob.id}> — 10 pts, 1/1 right (accuracy 100%)" in summary.content
        assert f"<@{carol.id}> — 0 pts, 0/1 right (accuracy 0%)" in summary.content
        assert f"<@{host.id}> — 0 pts, 0/0 right (accuracy —)" in summary.content
        assert not card_of(env, thread.id).custom_ids()

        storage = env.storage
        assert storage is not None
        for user in (host, bob, carol):
            assert (await storage.progress(fd.guild, user.id)).lessons_completed == ["tasks"]
        host_progress = await storage.progress(fd.guild, host.id)
        assert (host_progress.examples_run, host_progress.runs_ok) == (1, 1)
        assert await storage.active_sessions() == []
        # the channel is free again
        again = await fd.slash(bob, "study", {"lesson": "tasks", "thread": False}, subcommand="start")
        await fd.wait_until(lambda: again.original is not None and "started in" in again.original.content)


async def test_restart_in_the_middle_of_a_session(quiz_env):
    async with quiz_env(window=3.0) as env:
        fd = env.fd
        host, bob, carol = fd.add_user("host"), fd.add_user("bob"), fd.add_user("carol")
        started = await fd.slash(host, "study", {"lesson": "tasks", "thread": False}, subcommand="start")
        await fd.wait_until(lambda: started.original is not None and "started in" in started.original.content)
        card = card_of(env, fd.channel)
        sid = custom_id(card, r"cs:j:").split(":")[2]
        await fd.click(bob, card, f"cs:j:{sid}")
        await fd.click(host, card, f"cs:n:{sid}")
        await fd.click(host, card, f"cs:q:{sid}")
        question = await env.question(1, fd.channel)
        await fd.click(bob, question, custom_id(question, r"cq:c:\w+:0:0$"))
        assert env.bot is not None
        closes_at = env.quizzes.live[sid].game.current.closes_at

        await env.stop_bot()  # the bot goes down with the question open ...
        await asyncio.sleep(max(0.0, closes_at + 0.2 - time.time()))  # ... and its window passes meanwhile
        assert not env.bot_messages(fd.channel, text="**Question 1/3**")
        await env.start_bot()  # a new instance over the same database

        reveal = await env.wait_message("**Question 1/3**", fd.channel, limit=20)
        assert f"<@{bob.id}> +10" in reveal.content and "Answers (1)" in reveal.content
        assert not fd.message(question.id).custom_ids()  # the old question message was closed
        assert sid in env.studies.live

        # the old card's buttons still work
        await fd.click(carol, card, f"cs:j:{sid}")
        assert f"<@{carol.id}>" in card_of(env, fd.channel).content
        refused = await fd.click(carol, card, f"cs:p:{sid}")
        assert refused.original is not None and "Only the session's host" in refused.original.content
        await fd.click(host, card, f"cs:n:{sid}")
        assert "Section 2/2: Waiting" in card_of(env, fd.channel).content
        await fd.click(host, card, f"cs:e:{sid}")
        summary = await env.wait_message("Study session ended", fd.channel)
        assert f"<@{bob.id}> — 10 pts, 1/1 right (accuracy 100%)" in summary.content
        assert "3 participants · 1 question · 0 example runs" in summary.content


async def session_on(env: QuizEnv, lesson_yaml: str, host: FakeUser) -> tuple[str, Callable[[], FakeMessage]]:
    """Add a lesson file, start a session on it in the channel; (session id, the card as it is now)."""
    fd = env.fd
    lesson_id = lesson_yaml.split("\n", 1)[0].removeprefix("id: ")
    (env.catalog.root / f"{lesson_id}.yaml").write_text(lesson_yaml, encoding="utf-8")
    assert env.catalog.refresh().ok
    started = await fd.slash(host, "study", {"lesson": lesson_id, "thread": False}, subcommand="start")
    await fd.wait_until(lambda: started.original is not None and "started in" in started.original.content)
    title = lesson_yaml.split("\n", 2)[1].removeprefix("title: ")

    def card() -> FakeMessage:
        (found,) = env.bot_messages(fd.channel, text=f"Study session: {title}")
        return fd.message(found.id)

    return custom_id(card(), r"cs:j:").split(":")[2], card


PACED = """\
id: paced
title: Paced
sections:
  - {title: One, body: first, duration: 1}
  - {title: Two, body: second}
  - {title: Three, body: third}
examples:
  - id: hi
    code: print("hi")
"""


async def test_a_lesson_paces_its_session_and_next_or_pause_restart_the_timer(quiz_env):
    async with quiz_env() as env:
        fd = env.fd
        host = fd.add_user("host")
        sid, card = await session_on(env, PACED, host)
        await asyncio.sleep(1.5)  # the title card waits for the host: only sections carry a duration
        assert "Section" not in card().content

        await fd.click(host, card(), f"cs:p:{sid}")  # pause on section One: its 1 s timer must not run
        await fd.click(host, card(), f"cs:p:{sid}")  # resume
        await fd.click(host, card(), f"cs:n:{sid}")
        shown = time.monotonic()
        assert "Section 1/3: One" in card().content
        await fd.click(host, card(), f"cs:p:{sid}")  # paused: no advance however long it stays
        await asyncio.sleep(1.6)
        assert "Section 1/3: One" in card().content
        await fd.click(host, card(), f"cs:p:{sid}")  # resumed: the section's 1 s starts over
        resumed = time.monotonic()
        await fd.wait_until(lambda: "Section 2/3: Two" in card().content, 10)
        assert time.monotonic() - resumed >= 0.8 and time.monotonic() - shown >= 2.4

        await asyncio.sleep(1.5)  # section Two has no duration and the command gave none: it stays
        assert "Section 2/3: Two" in card().content
        assert env.bot is not None
        assert sid not in env.studies.auto


SECTIONED = """\
id: sectioned
title: Sectioned
sections:
  - {title: One, body: first, example: second}
  - {title: Two, body: second}
examples:
  - id: first
    code: print("from the first example")
  - id: second
    code: print("from the second example")
"""


async def test_run_in_a_session_runs_the_current_sections_example(quiz_env):
    async with quiz_env() as env:
        fd = env.fd
        host = fd.add_user("host")
        sid, card = await session_on(env, SECTIONED, host)
        await fd.click(host, card(), f"cs:n:{sid}")
        run = await fd.click(host, card(), f"cs:r:{sid}")
        await fd.wait_until(lambda: run.original is not None and "✅ finished" in run.original.content, 20)
        assert run.original is not None and "from the second example" in run.original.content


async def test_a_chinese_member_hears_about_the_session_in_chinese(quiz_env):
    async with quiz_env() as env:
        fd = env.fd
        host, li = fd.add_user("host", locale="zh-CN"), fd.add_user("li", locale="zh-CN")
        started = await fd.slash(host, "study", {"lesson": "tasks", "thread": False}, subcommand="start")
        await fd.wait_until(lambda: started.original is not None and "学习会已在" in started.original.content)
        card = card_of_zh(env)
        sid = custom_id(card, r"cs:j:").split(":")[2]
        assert "主持人" in card.content and "点击“加入”参与" in card.content
        assert {b["label"] for row in card.components for b in row["components"]} >= {"加入", "暂停", "结束"}
        await fd.click(host, card, f"cs:p:{sid}")
        paused = await fd.click(host, card_of_zh(env), f"cs:r:{sid}")
        assert paused.original is not None and paused.original.ephemeral
        assert paused.original.content == "学习会已暂停；主持人可以继续。"
        refused = await fd.click(li, card_of_zh(env), f"cs:e:{sid}")
        assert refused.original is not None and "只有学习会的主持人" in refused.original.content


def card_of_zh(env: QuizEnv) -> FakeMessage:
    (card,) = env.bot_messages(env.fd.channel, text="学习会：两个任务")
    return env.fd.message(card.id)
