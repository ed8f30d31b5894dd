"""Abuse and fairness through the emulator: the learner-run quota refuses politely (privately, with when to
retry) per member and per server, separately from lesson runs; admins switch learner code off and on per
server and per channel (members cannot); code over the size limit gets a clear error; every learner run is in
the moderation log by hash, never by its code."""

from __future__ import annotations

import re

import pytest

from bot.config import LearnerQuotaSettings, PlaygroundSettings, RateLimit
from bot.core.playground import code_hash
from bot.storage.sql import SqlStorage
from tests.discord_app.playground.helpers import final, reply_text

pytestmark = pytest.mark.timeout(120)


def limits(user: int = 10, guild: int = 100, **options: object) -> PlaygroundSettings:
    per_user, per_guild = RateLimit(runs=user, per_seconds=600), RateLimit(runs=guild, per_seconds=600)
    quota = LearnerQuotaSettings(per_user=per_user, per_guild=per_guild)
    return PlaygroundSettings.model_validate({"quota": quota, **options})


async def test_the_quota_refuses_privately_with_when_to_retry(make_env) -> None:
    async with make_env(playground=limits(user=2, guild=3)) as env:
        fd = env.fd
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        for n in range(2):
            await final(fd, await fd.slash(alice, "try", {"code": f"print({n})"}))
        refused = await fd.slash(alice, "try", {"code": "print(2)"})
        text = reply_text(refused)
        assert refused.original is not None and refused.original.ephemeral
        assert "You have already run your own code 2 times in the last 10 min" in text
        retry = re.search(r"again in (\d+) s", text)
        assert retry is not None and 590 <= int(retry.group(1)) <= 600
        lesson = await env.wait_final(await fd.slash(alice, "run", {"lesson": "hello"}))  # lesson runs: separate
        assert "s  World" in lesson.content
        await final(fd, await fd.slash(bob, "try", {"code": "print('bob')"}))  # the server's third
        full = await fd.slash(bob, "try", {"code": "print('again')"})
        assert "This server has run 3 learner programs in the last 10 min" in reply_text(full)
        assert full.original is not None and full.original.ephemeral
        opened = await fd.click(bob, lesson, "cb:edit:hello:hello")  # the form opens; its submission is refused
        submitted = await fd.submit_modal(bob, opened, {})
        assert "This server has run 3" in reply_text(submitted) and submitted.original.ephemeral


async def test_admins_switch_learner_code_off_and_on_per_server_and_channel(make_env) -> None:
    async with make_env() as env:
        fd = env.fd
        member, admin = fd.add_user("member"), fd.add_user("admin", admin=True)
        other = fd.add_channel("sandbox")
        refused = await fd.slash(member, "playground", {}, subcommand="off", force=True)
        assert "Only members with Manage Server" in reply_text(refused)
        off = await fd.slash(admin, "playground", {}, subcommand="off")
        assert "now off in this whole server" in reply_text(off) and off.original.ephemeral
        blocked = await fd.slash(member, "try", {"code": "print(1)"})
        assert "turned off running your own code here" in reply_text(blocked) and blocked.original.ephemeral
        lesson = await env.wait_final(await fd.slash(member, "run", {"lesson": "hello"}))  # lessons still run
        edit = await fd.click(member, lesson, "cb:edit:hello:hello")
        assert edit.modal is None and "turned off" in reply_text(edit)  # said before anything is typed
        posted = await fd.say(member, "```py\nprint(1)\n```")
        menu = await fd.message_command(member, "Run with corobot", posted)
        assert "turned off" in reply_text(menu) and menu.original.ephemeral

        opened = await fd.slash(admin, "playground", {"channel": other}, subcommand="on")
        assert f"may run in <#{other.id}>" in reply_text(opened)
        allowed = await final(fd, await fd.slash(member, "try", {"code": "print('sandbox')"}, channel=other.id))
        assert "s  sandbox" in allowed.content
        status = reply_text(await fd.slash(admin, "playground", {}, subcommand="status"))
        assert "this server: ⛔ off" in status and f"<#{other.id}>: ✅ allowed" in status

        await fd.slash(admin, "playground", {}, subcommand="on")
        await fd.slash(admin, "playground", {"channel": other}, subcommand="off")
        assert "s  back" in (await final(fd, await fd.slash(member, "try", {"code": "print('back')"}))).content
        closed = await fd.slash(member, "try", {"code": "print(1)"}, channel=other.id)
        assert "turned off running your own code in this channel" in reply_text(closed)


async def test_code_over_the_size_limit_gets_a_clear_error_and_runs_are_logged_by_hash(make_env) -> None:
    async with make_env(playground=limits(max_code_chars=200)) as env:
        fd = env.fd
        alice = fd.add_user("alice")
        opened = await fd.slash(alice, "try")
        big = "x = 1\n" * 50  # 300 characters
        refused = await fd.submit_modal(alice, opened, {"code": big})
        text = reply_text(refused)
        assert refused.original is not None and refused.original.ephemeral
        assert "Your code is 300 characters long; the limit is 200" in text
        secret = "print('my-secret-approach')\n"
        await final(fd, await fd.submit_modal(alice, await fd.slash(alice, "try"), {"code": secret}))
        storage = env.bot.services.storage
        assert isinstance(storage, SqlStorage)
        rows = await storage.fetch("SELECT user_id, guild_id, kind, code_sha256, code_chars, status FROM learner_runs")
        assert rows == [(alice.id, fd.guild, "try", code_hash(secret), len(secret), "ok")]
