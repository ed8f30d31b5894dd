"""/review, /path, /timezone, /forget-me and the admins' /recap through the emulator, on a real SQLite file,
with the review feature on a clock the test moves."""

from __future__ import annotations

import asyncio
import re

from tests.core.review.conftest import Clock
from tests.discord_app.env import QuizEnv, custom_id, is_final
from tests.fakediscord import FakeMessage, FakeUser
from tests.storage.test_forget import traces

MINUTE, DAY = 60.0, 86400.0


def private(env: QuizEnv, text: str) -> list[FakeMessage]:
    """The bot's ephemeral messages that contain `text`."""
    return [m for m in env.fd.messages() if m.ephemeral and m.author.id == env.fd.bot_user.id and text in m.content]


async def solo_quiz_answer(env: QuizEnv, user: FakeUser, choice: int) -> None:
    """`user` answers the first question of `tasks` in a solo quiz (choice 0 is right) and sees the reveal,
    with the example's real run (the replies follow the member's latest interaction)."""
    fd = env.fd
    runs = len(private(env, "Real time:"))
    start = await fd.slash(user, "quiz", {"lesson": "tasks", "count": 1, "mode": "solo"})
    await fd.wait_until(lambda: any(m.custom_ids() for m in start.followups), 20)
    question = next(m for m in start.followups if m.custom_ids())
    await fd.click(user, question, custom_id(question, rf"cq:c:\w+:0:{choice}$"))
    await fd.wait_until(lambda: len(private(env, "Real time:")) > runs, 30)


async def test_a_wrong_quiz_answer_comes_back_in_review(quiz_env):
    clock = Clock()
    async with quiz_env(window=20.0, clock=clock) as env:
        fd = env.fd
        alice = fd.add_user("alice")
        nothing = await fd.slash(alice, "review")
        assert nothing.original is not None and nothing.original.ephemeral
        assert "Nothing to review yet" in nothing.original.content

        await solo_quiz_answer(env, alice, choice=1)  # wrong
        soon = await fd.slash(alice, "review")
        assert soon.original is not None and "Nothing to review now" in soon.original.content
        assert re.search(r"<t:\d+:R>", soon.original.content)

        clock.advance(11 * MINUTE)
        review = await fd.slash(alice, "review")
        assert review.original is not None and review.original.ephemeral
        await fd.wait_until(lambda: any(m.custom_ids() for m in review.followups), 20)
        assert review.original is not None and "Review: 1 card due" in review.original.content
        question = next(m for m in review.followups if m.custom_ids())
        assert question.ephemeral and "How long does it take?" in question.content
        await fd.click(alice, question, custom_id(question, r"cq:c:r\w+:0:0$"))
        # the reveal re-runs the example (predict, then run), then the summary says when the card comes back
        await fd.wait_until(lambda: bool(private(env, "Reviewed")), 30)
        assert len(private(env, "Real time:")) == 2  # the quiz's reveal, and the review's
        [summary] = private(env, "Reviewed")
        assert "Reviewed 1 card, 1 right" in summary.content and "✔ `tasks/pick` comes back <t:" in summary.content

        assert env.storage is not None
        rows = await env.storage.fetch("SELECT source, correct, rating FROM review_log ORDER BY id")
        assert [tuple(r) for r in rows] == [("quiz", 0, 1), ("review", 1, 3)]
        [card] = await env.storage.learner_cards(fd.guild, alice.id)
        assert card.card.due - clock.now >= DAY
        # a review earns no leaderboard points
        assert await env.storage.leaderboard(fd.guild, "all") == [(alice.id, 0, 1)]
        again = await fd.slash(alice, "review")
        assert again.original is not None and "Nothing to review now" in again.original.content


async def test_path_shows_the_next_lesson_with_a_button_to_open_it(quiz_env):
    async with quiz_env(window=20.0) as env:
        fd = env.fd
        bob = fd.add_user("bob")
        shown = await fd.slash(bob, "path")
        message = shown.original
        assert message is not None and message.ephemeral
        assert "**Your path**: 0 of 3 lessons done" in message.content
        assert "**Next: `hello`** — it needs nothing before it" in message.content
        opened = await fd.click(bob, message, custom_id(message, r"cb:lp:n:0:hello$"))
        assert opened.original is not None and "Hello coroutines" in opened.original.content


async def test_timezone_in_chinese_and_a_bad_zone(quiz_env):
    async with quiz_env() as env:
        fd = env.fd
        carol = fd.add_user("carol", locale="zh-CN")
        ok = await fd.slash(carol, "timezone", {"zone": "asia/shanghai"})
        assert ok.original is not None and "时区已设为 Asia/Shanghai" in ok.original.content
        bad = await fd.slash(carol, "timezone", {"zone": "Mars/Olympus"})
        assert bad.original is not None and bad.original.ephemeral and "未知的时区" in bad.original.content
        assert env.storage is not None and await env.storage.timezone(carol.id) == "Asia/Shanghai"


async def test_forget_me_asks_and_then_leaves_nothing(quiz_env):
    async with quiz_env(window=20.0) as env:
        fd = env.fd
        dave, erin = fd.add_user("dave"), fd.add_user("erin")
        for user in (dave, erin):
            await solo_quiz_answer(env, user, choice=0)
            await fd.slash(user, "timezone", {"zone": "Europe/Paris"})
        await fd.slash(erin, "quiz", {"lesson": "tasks", "count": 1})  # a group quiz, still open
        question = await env.question(1)
        await fd.click(dave, question, custom_id(question, r"cq:c:\w+:0:1$"))
        await fd.click(erin, question, custom_id(question, r"cq:c:\w+:0:0$"))
        asked = await fd.slash(dave, "forget-me")
        prompt = asked.original
        assert prompt is not None and prompt.ephemeral and "cannot be undone" in prompt.content
        button = custom_id(prompt, rf"rv:forget:{dave.id}$")
        refused = await fd.click(erin, prompt, button)  # only dave can confirm his own
        assert refused.original is not None and "Only the member who asked" in refused.original.content
        assert env.storage is not None
        assert sum((await traces(env.storage, dave.id)).values()) > 0
        done = await fd.click(dave, prompt, button)
        assert done.original is not None and "records deleted" in done.original.content
        assert await traces(env.storage, dave.id) == dict.fromkeys(await env.storage.row_counts(), 0)
        assert (await traces(env.storage, erin.id))["review_cards"] == 1  # erin's are untouched
        [live] = env.quizzes.live.values()  # the open quiz goes on without dave, in memory too
        assert live.game.current is not None and list(live.game.current.submissions) == [erin.id]


async def test_admin_chooses_the_recap_channel_and_it_is_posted(quiz_env):
    async with quiz_env(window=20.0) as env:
        fd = env.fd
        admin, frank = fd.add_user("admin", admin=True), fd.add_user("frank")
        channel = fd.world.add_channel("recaps")
        await solo_quiz_answer(env, frank, choice=1)
        refused = await fd.slash(frank, "recap", {"channel": channel, "now": True})
        assert refused.original is not None and refused.original.ephemeral
        assert not env.bot_messages(channel.id)
        done = await fd.slash(admin, "recap", {"channel": channel, "now": True})
        await fd.wait_until(lambda: done.original is not None and "weekly recap goes to" in done.original.content)
        posted = await env.wait_message("This week in corobot", channel.id)
        assert "— 1 learner answered questions" in posted.content
        assert f"<@{frank.id}>: 0 right of 1" in posted.content
        assert "`tasks/pick` (1 of 1 missed it)" in posted.content
        assert posted.allowed_mentions == {"parse": []}
        opened = await fd.click(frank, posted, custom_id(posted, r"cb:lp:n:0:tasks$"))
        assert opened.original is not None and "Two tasks" in opened.original.content


async def test_running_a_lessons_last_example_finishes_it(quiz_env):
    """`hello` has no questions: once both its examples ran, it is done (and /path says so)."""
    async with quiz_env() as env:
        fd = env.fd
        gail = fd.add_user("gail")
        for example in ("hello", "boom"):
            ran = await fd.slash(gail, "run", {"lesson": "hello", "example": example})
            await fd.wait_until(lambda ran=ran: is_final(ran.original), 30)
        assert env.storage is not None
        for _ in range(100):  # the run is stored just after its message's final edit
            if await env.storage.lessons_done(fd.guild, gail.id):
                break
            await asyncio.sleep(0.05)
        assert list(await env.storage.lessons_done(fd.guild, gail.id)) == ["hello"]
        shown = await fd.slash(gail, "path")
        assert shown.original is not None and "1 of 3 lessons done" in shown.original.content
        assert "✔ Done: `hello`" in shown.original.content


async def test_forget_me_takes_a_member_out_of_a_running_study_session(quiz_env):
    async with quiz_env() as env:
        fd = env.fd
        host, member = fd.add_user("host"), fd.add_user("member")
        started = await fd.slash(host, "study", {"lesson": "tasks", "thread": False}, subcommand="start")
        await fd.wait_until(lambda: started.original is not None and "started in" in started.original.content)
        card = next(m for m in env.bot_messages() if any(c.startswith("cs:j:") for c in m.custom_ids()))
        await fd.click(member, card, custom_id(card, r"cs:j:"))
        assert env.storage is not None
        assert (await traces(env.storage, member.id))["sessions"] == 1
        asked = await fd.slash(member, "forget-me")
        assert asked.original is not None
        await fd.click(member, asked.original, custom_id(asked.original, rf"rv:forget:{member.id}$"))
        assert (await traces(env.storage, member.id))["sessions"] == 0
        [live] = env.studies.live.values()
        assert member.id not in live.session.members and host.id in live.session.members
        await fd.click(host, card, custom_id(card, r"cs:n:"))  # the session goes on and saves again
        assert (await traces(env.storage, member.id))["sessions"] == 0
