"""/try and "Run with corobot" through the emulator: a one-line program with input, the form, `input()` without
input (EOFError with a hint), a message's first Python block (plain code with a note), re-runs when its author
edits it — the same reply edited in place, only when the code changed and within the window — and a bot whose
message content intent Discord refuses (it starts without re-runs)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from bot.discord_app.app import run_discord
from tests.discord_app.env import emulated
from tests.discord_app.playground.helpers import fields, final, is_done
from tests.fakediscord.models import INTENT_GUILD_MEMBERS

pytestmark = pytest.mark.timeout(120)

ASKS = "name = input()\nprint(f'hello {name}')\nprint(input())\n"


async def test_try_with_a_one_line_program_and_input(make_env) -> None:
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        ix = await fd.slash(alice, "try", {"code": "import sys; print(sys.stdin.read().upper())", "stdin": "quiet"})
        msg = await final(fd, ix)
        assert msg.content.startswith("-# 🧪 Learner code by <@") and "not a lesson example" in msg.content
        assert "s  QUIET" in msg.content and "✅ finished" in msg.content
        assert msg.custom_ids() == ["cb:try:again"] and not msg.ephemeral


async def test_the_try_form_input_and_the_eoferror_hint(make_env) -> None:
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        opened = await fd.slash(alice, "try")
        assert fields(opened)["code"].get("value") is None and "stdin" in fields(opened)
        without = await final(fd, await fd.submit_modal(alice, opened, {"code": ASKS}))
        assert "EOFError: EOF when reading a line" in without.content
        assert "💡 Your program called input(), but it was given no input" in without.content
        again = await fd.click(alice, without, "cb:try:again")
        assert fields(again)["code"]["value"] == ASKS
        short = await final(fd, await fd.submit_modal(alice, again, {"stdin": "Ada"}))
        assert "s  hello Ada" in short.content and "more times than the input has lines" in short.content
        form = await fd.slash(alice, "try")
        full = await final(fd, await fd.submit_modal(alice, form, {"code": ASKS, "stdin": "Ada\nbye"}))
        assert "s  hello Ada" in full.content and "s  bye" in full.content and "💡" not in full.content


async def test_run_with_corobot_reruns_when_the_author_edits(make_env) -> None:
    async with make_env() as env:
        fd = env.fd
        alice, bob = fd.add_user("alice"), fd.add_user("bob")
        text = "try this:\n```js\nnope()\n```\n```py\nprint('v1')\n```\nand ```python\nprint('no')\n```"
        posted = await fd.say(alice, text)
        ix = await fd.message_command(bob, "Run with corobot", posted)
        reply = await final(fd, ix)
        assert "s  v1" in reply.content and "no')" not in reply.content
        assert f"/{posted.id} by <@{alice.id}>" in reply.content  # the code's author, linked
        bot_messages = len([m for m in fd.messages() if m.author.id == fd.bot_user.id])

        v2 = "```py\nimport asyncio\nasyncio.run(asyncio.sleep(0.3))\nprint('v2')\n```"
        await fd.edit(alice, posted, v2)
        await fd.wait_until(lambda: "s  v2" in fd.message(reply.id).content and is_done(fd.message(reply.id)))
        content = fd.message(reply.id).content
        assert "v1" not in content and "re-run after 1 edit" in content
        assert len([m for m in fd.messages() if m.author.id == fd.bot_user.id]) == bot_messages  # the same reply

        edits = fd.message(reply.id).edits
        await fd.edit(alice, posted, "now with words around it\n" + v2)
        await asyncio.sleep(0.5)
        assert fd.message(reply.id).edits == edits  # the code did not change: nothing re-ran

        await fd.edit(alice, posted, "```py\n\n```")
        await fd.wait_until(lambda: "There is no code to run" in fd.message(reply.id).content)

        cog = env.bot.get_cog("Playground")
        assert cog is not None
        cog.learner.watches[posted.id].until = time.monotonic() - 1  # the edit window (10 min) has passed
        edits = fd.message(reply.id).edits
        await fd.edit(alice, posted, "```py\nprint('v3')\n```")
        await asyncio.sleep(0.5)
        assert fd.message(reply.id).edits == edits and posted.id not in cog.learner.watches


async def test_plain_code_runs_with_a_note(make_env) -> None:
    async with make_env() as env:
        fd = env.fd
        alice = fd.add_user("alice")
        plain = await fd.say(alice, "print(6 * 7)")
        reply = await final(fd, await fd.message_command(alice, "Run with corobot", plain))
        assert "s  42" in reply.content and "No ```py block found: the whole message ran as Python" in reply.content
        untagged = await fd.say(alice, "```\nprint('untagged')\n```")
        reply = await final(fd, await fd.message_command(alice, "Run with corobot", untagged))
        assert "s  untagged" in reply.content and "The code block had no language" in reply.content


async def test_a_bot_whose_content_intent_is_refused_starts_without_reruns(tmp_path, caplog) -> None:
    async with emulated(tmp_path, fd_options={"privileged_intents": INTENT_GUILD_MEMBERS}) as parts:
        fd = parts.fd
        serving = run_discord(parts.settings, fd.token, parts.catalog, parts.runner, guild_ready_timeout=0.05)
        task = asyncio.create_task(serving)
        await fd.wait_ready()
        await fd.wait_until(lambda: fd.commands(fd.guild))
        identifies = [p for p in fd.gateway.received if p.get("op") == 2]
        assert len(identifies) == 2 and not identifies[-1]["d"]["intents"] & (1 << 15)
        assert "refused the message content intent" in caplog.text
        alice = fd.add_user("alice")
        posted = await fd.say(alice, "```py\nprint('still runs')\n```")
        reply = await final(fd, await fd.message_command(alice, "Run with corobot", posted))
        assert "s  still runs" in reply.content
        os.kill(os.getpid(), signal.SIGTERM)  # stops the bot as a service manager would
        assert await asyncio.wait_for(task, 15) == 0
