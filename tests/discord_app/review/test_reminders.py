"""Reminders by direct message through the emulator: opt-in, at most once a (local) day, spread out, and
stopped by the Stop button, by a reply "stop", and by leaving the server."""

from __future__ import annotations

import asyncio
import time

from tests.core.review.conftest import Clock
from tests.discord_app.env import QuizEnv, custom_id
from tests.discord_app.review.test_review import solo_quiz_answer
from tests.fakediscord import FakeMessage, FakeUser

HOUR, DAY = 3600.0, 86400.0
EVENING = 1_767_294_000.0  # 2026-01-01 19:00 UTC: past the reminder hour (18:00) for a learner in UTC


def reminders_to(env: QuizEnv, user: FakeUser) -> list[FakeMessage]:
    dm = env.fd.world.open_dm(user)
    return [m for m in env.fd.messages(dm.id) if m.author.id == env.fd.bot_user.id]


async def due_card(env: QuizEnv, clock: Clock, *users: FakeUser) -> None:
    """Each of `users` answers wrong in a quiz at 09:00; by 19:00 their card is due."""
    clock.now = EVENING - 10 * HOUR
    for user in users:
        await solo_quiz_answer(env, user, choice=1)
    clock.now = EVENING


async def test_reminders_come_once_a_day_to_who_asked_and_stop_on_the_button(quiz_env):
    clock = Clock(EVENING)
    async with quiz_env(window=20.0, clock=clock, review={"reminder_spacing": 0.2}) as env:
        fd = env.fd
        alice, bob, carol = fd.add_user("alice"), fd.add_user("bob"), fd.add_user("carol")
        await due_card(env, clock, alice, bob, carol)
        on = await fd.slash(alice, "reminders", {"enabled": True})
        assert on.original is not None and on.original.ephemeral and "from 18:00 your time" in on.original.content
        await fd.slash(bob, "reminders", {"enabled": True})  # carol never asked
        background = env.bot.get_cog("Review").background
        start = time.monotonic()
        assert await background.remind() == 2
        assert time.monotonic() - start >= 0.35  # two sends, spread 0.2 s apart
        [reminder] = reminders_to(env, alice)
        assert "You have 1 review due in corobot test guild" in reminder.content
        assert reminder.allowed_mentions == {"parse": []} and len(reminders_to(env, bob)) == 1
        assert reminders_to(env, carol) == []
        assert await background.remind() == 0  # not twice the same day

        stopped = await fd.click(alice, reminder, custom_id(reminder, rf"rv:stop:{fd.guild}$"))
        assert stopped.original is not None and "Reminders stopped" in stopped.original.content
        clock.advance(DAY)
        assert await background.remind() == 1  # the next day: bob only
        assert len(reminders_to(env, alice)) == 1 and len(reminders_to(env, bob)) == 2


async def test_a_reply_stop_and_leaving_the_server_end_reminders(quiz_env):
    clock = Clock(EVENING)
    async with quiz_env(window=20.0, clock=clock, review={"reminder_spacing": 0.0}) as env:
        fd = env.fd
        dana, eve = fd.add_user("dana"), fd.add_user("eve")
        await due_card(env, clock, dana, eve)
        for user in (dana, eve):
            await fd.slash(user, "reminders", {"enabled": True})
        background = env.bot.get_cog("Review").background
        assert await background.remind() == 2
        await fd.say(eve, " 停止 ", channel_id=fd.world.open_dm(eve).id)  # "stop" (in Chinese: any language works)
        assert env.storage is not None
        for _ in range(200):  # the bot handles the reply in its own time
            if not await env.storage.reminders_enabled(fd.guild, eve.id):
                break
            await asyncio.sleep(0.05)
        assert not await env.storage.reminders_enabled(fd.guild, eve.id)
        fd.world.remove_member(dana)  # dana leaves the server
        clock.advance(DAY)
        assert await background.remind() == 0
        assert len(reminders_to(env, dana)) == 1 and len(reminders_to(env, eve)) == 1
        assert not await env.storage.reminders_enabled(fd.guild, dana.id)  # dropped, not just skipped
