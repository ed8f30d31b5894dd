"""/quiz through the emulator: several members answering, changing, answering twice and late; hints; the
revealed distribution and scores; predict-then-run with the real output; answers in the real SQLite file."""

from __future__ import annotations

import asyncio
import re

from tests.discord_app.env import custom_id
from tests.fakediscord import FakeMessage


async def test_group_quiz_scores_distribution_and_predict_then_run(quiz_env):
    async with quiz_env(window=2.5) as env:
        fd = env.fd
        alice, bob, carol, dave = (fd.add_user(n) for n in ("alice", "bob", "carol", "dave"))
        start = await fd.slash(alice, "quiz", {"lesson": "tasks", "count": 2})
        assert start.original is not None and "Quiz: Two tasks" in start.original.content
        q1 = await env.question(1)
        assert "How long does it take?" in q1.content
        right = custom_id(q1, r"cq:c:\w+:0:0$")
        wrong = custom_id(q1, r"cq:c:\w+:0:1$")
        slow = custom_id(q1, r"cq:c:\w+:0:2$")
        hint = custom_id(q1, r"cq:h:")

        first = await fd.click(alice, q1, right)
        assert first.original is not None and first.original.ephemeral
        assert "Your answer: **`0.3 s`**" in first.original.content
        again = await fd.click(alice, q1, right)  # the same answer twice: still one answer
        assert again.original is not None and again.original.ephemeral
        await fd.click(bob, q1, slow)
        changed = await fd.click(bob, q1, right)  # bob changes his mind
        assert changed.original is not None and "changed to **`0.3 s`**" in changed.original.content
        await fd.click(carol, q1, wrong)
        tip = await fd.click(dave, q1, hint)
        assert tip.original is not None and tip.original.ephemeral and "look at the sleep" in tip.original.content
        assert "−3" in tip.original.content
        await fd.click(dave, q1, right)

        reveal = await env.wait_message("Real time:", limit=30)
        content = reveal.content
        assert "**Question 1/2** — answer: **0.3 s**" in content
        assert "> One sleep of 0.3 s." in content
        assert "Answers (4): `0.3 s` ✔ × 3 · `0.6 s` × 1 · `1 s` × 0" in content
        assert f"<@{alice.id}> +10" in content and f"<@{bob.id}> +10" in content
        assert f"<@{dave.id}> +7 (hints −3)" in content and f"<@{carol.id}>" not in content
        # predict, then run: the real output with its times and the real elapsed time
        times = dict((word, float(at)) for at, word in re.findall(r"^\+(\d+\.\d{3})s  (\w+)$", content, re.M))
        assert set(times) == {"Hello", "World"}
        assert times["World"] - times["Hello"] >= 0.25
        found = re.search(r"Real time: \*\*(\d+\.\d+) s\*\* \(ok\)", content)
        assert found is not None
        elapsed = float(found.group(1))
        assert elapsed >= times["World"]
        assert reveal.allowed_mentions == {"parse": []}
        closed = fd.message(q1.id)
        assert "answers closed" in closed.content and not closed.custom_ids()

        # question 2 (text): answered in a modal; dave opens it in time but submits after the window closed
        q2 = await env.question(2)
        answer = custom_id(q2, r"cq:o:")
        late_form = await fd.click(dave, q2, answer)
        assert late_form.modal is not None
        for user, text in ((alice, "await"), (bob, "Await!"), (carol, "yield")):
            form = await fd.click(user, q2, answer)
            done = await fd.submit_modal(user, form, {"answer": text})
            assert done.original is not None and done.original.ephemeral and "Your answer" in done.original.content
        await env.wait_message("**Question 2/2**", limit=20)
        late = await fd.submit_modal(dave, late_form, {"answer": "await"})
        assert late.original is not None and late.original.ephemeral and "has closed" in late.original.content

        board = await env.wait_message("Final scores", limit=20)
        rows = re.findall(r"^\d\. <@(\d+)> — (\d+) pts \((\d)/(\d) right\)$", board.content, re.M)
        scores = {int(uid): (int(p), int(r), int(n)) for uid, p, r, n in rows}
        assert scores == {alice.id: (20, 2, 2), bob.id: (20, 2, 2), dave.id: (7, 1, 1), carol.id: (0, 0, 2)}

        # storage: every answer exactly once, scored; alice's repeat and bob's change counted as changes
        assert env.bot is not None
        db = env.storage.db
        async with db.execute("SELECT user_id, question_id, changes, correct, points FROM answers") as cur:
            stored = {(u, q): (ch, c, p) async for u, q, ch, c, p in cur}
        assert stored[(alice.id, "pick")] == (1, 1, 10) and stored[(bob.id, "pick")] == (1, 1, 10)
        assert stored[(dave.id, "pick")] == (0, 1, 7) and stored[(carol.id, "pick")] == (0, 0, 0)
        assert (dave.id, "word") not in stored and len(stored) == 7
        progress = await env.storage.progress(fd.guild, alice.id)
        assert progress.lessons_completed == ["tasks"] and (progress.answers, progress.correct) == (2, 2)


async def test_fifty_members_answer_at_once_each_recorded_once(quiz_env):
    async with quiz_env(window=30.0) as env:
        fd = env.fd
        users = [fd.add_user(f"user{i:02d}") for i in range(50)]
        await fd.slash(users[0], "quiz", {"lesson": "tasks", "count": 1})
        q1 = await env.question(1)
        ids = [custom_id(q1, rf"cq:c:\w+:0:{i}$") for i in range(3)]
        clicks = [fd.click(u, q1, ids[i % 3], wait=False) for i, u in enumerate(users)]
        clicks += [fd.click(u, q1, ids[0], wait=False) for u in users[:10]]  # ten answer again at once
        sent = await asyncio.gather(*clicks)
        await asyncio.gather(*(ix.wait_response(20) for ix in sent))
        assert all(ix.original is not None and ix.original.ephemeral for ix in sent)
        db = env.storage.db
        async with db.execute("SELECT user_id, answer, changes FROM answers WHERE question_id = 'pick'") as cur:
            rows = [r async for r in cur]
        assert sorted(r[0] for r in rows) == sorted(u.id for u in users)
        assert sum(r[2] for r in rows) == 10
        live = next(iter(env.quizzes.live.values()))
        assert live.game.current is not None and len(live.game.current.submissions) == 50


async def test_solo_quiz_is_private_and_reveals_at_once(quiz_env):
    async with quiz_env(window=30.0) as env:
        fd = env.fd
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        await fd.slash(alice, "quiz", {"lesson": "tasks", "count": 1, "mode": "solo"})

        def solo_question() -> FakeMessage | None:
            return next(
                (m for m in fd.messages() if m.ephemeral and any(c.startswith("cq:c:") for c in m.custom_ids())), None
            )

        await fd.wait_until(lambda: solo_question() is not None, 10)
        question = solo_question()
        assert question is not None
        right = custom_id(question, r"cq:c:\w+:0:0$")
        refused = await fd.click(bob, question, right)
        assert refused.original is not None and "someone else's solo quiz" in refused.original.content
        await fd.click(alice, question, right)
        # revealed long before the 30 s window, privately, with the real run, then the final score
        await fd.wait_until(lambda: any(m.ephemeral and "Final scores" in m.content for m in fd.messages()), 15)
        private = [m for m in fd.messages() if m.ephemeral]
        assert any("**Question 1/1** — answer: **0.3 s**" in m.content and "Real time" in m.content for m in private)
        assert not [m for m in env.bot_messages() if "question 1/" in m.content]


WORDS = """\
id: words
title: Words
examples:
  - id: hi
    code: print("hi")
quiz:
  - id: keyword
    type: text
    prompt: Which keyword waits for a coroutine?
    explanation: await suspends until the awaited thing is done.
    answers: [await]
"""


async def test_an_answer_form_opened_before_a_restart_is_accepted_after_it(quiz_env):
    async with quiz_env(window=4.0) as env:
        fd = env.fd
        (env.catalog.root / "words.yaml").write_text(WORDS, encoding="utf-8")
        assert env.catalog.refresh().ok
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        await fd.slash(alice, "quiz", {"lesson": "words"})
        question = await env.question(1)
        form = await fd.click(bob, question, custom_id(question, r"cq:o:"))
        assert form.modal is not None

        await env.stop_bot()  # bob is still typing ...
        await env.start_bot()
        done = await fd.submit_modal(bob, form, {"answer": "Await"})  # ... and sends it to the new instance
        assert done.original is not None and done.original.ephemeral and "Your answer" in done.original.content

        reveal = await env.wait_message("**Question 1/1**", limit=20)
        assert f"<@{bob.id}> +10" in reveal.content and "Answers (1)" in reveal.content


async def test_speed_bonus_rewards_the_earlier_right_answer(quiz_env):
    async with quiz_env(window=3.0) as env:
        fd = env.fd
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        await fd.slash(alice, "quiz", {"lesson": "tasks", "count": 1, "speed_bonus": True})
        question = await env.question(1)
        right = custom_id(question, r"cq:c:\w+:0:0$")
        await fd.click(alice, question, right)
        await asyncio.sleep(1.5)
        await fd.click(bob, question, right)
        reveal = await env.wait_message("**Question 1/1**", limit=20)
        points = {int(uid): int(p) for uid, p in re.findall(r"<@(\d+)> \+(\d+)", reveal.content)}
        assert points[alice.id] > points[bob.id] > 10, reveal.content  # 10 points, plus a share for speed
