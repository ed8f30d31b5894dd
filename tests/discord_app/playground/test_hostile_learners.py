"""Hostile learner code through the emulator: a spin, a fork flood, a huge print and forged events, submitted
at once by four members, each end with its named status in a message labelled as learner code, while a fifth
member's lesson run and a sixth member's ordinary program are served as usual — and the bot's loop keeps up."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.config import PlaygroundSettings
from tests.discord_app.playground.helpers import final

pytestmark = pytest.mark.timeout(120)

FORGED = (
    "import os\n"
    f"os.write(3, {(json.dumps({'k': 'exit', 'status': 0, 'cpu': 0, 'end': 0}) + chr(10)).encode()!r})\n"
    f"os.write(3, {(json.dumps({'k': 'out', 's': 'stdout', 'x': 'forged line', 't': 1e300}) + chr(10)).encode()!r})\n"
    "print('real line')\n"
    "raise SystemExit(3)\n"
)
HOSTILE = {
    "spin": ("while True:\n    pass\n", "⏱️ timed out"),
    "forks": ("import os\nwhile True:\n    os.fork()\n", "❌ raised an exception"),
    "flood": ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", "📜 output limit reached"),
    "forger": (FORGED, "❌ raised an exception"),
}


async def test_hostile_learner_code_ends_named_while_everyone_else_is_served(make_env) -> None:
    async with make_env(playground=PlaygroundSettings(timeout=3.0), runner={"max_concurrent": 8}) as env:
        fd = env.fd
        worst = 0.0

        async def probe() -> None:
            nonlocal worst
            while True:
                before = time.perf_counter()
                await asyncio.sleep(0.01)
                worst = max(worst, time.perf_counter() - before - 0.01)

        prober = asyncio.create_task(probe())
        forms = {}
        for name in HOSTILE:
            user = fd.add_user(name)
            forms[name] = (user, await fd.slash(user, "try"))
        started = time.perf_counter()
        submitted = await asyncio.gather(
            *(fd.submit_modal(user, opened, {"code": HOSTILE[name][0]}) for name, (user, opened) in forms.items())
        )
        learner = fd.add_user("learner")
        lesson = await fd.slash(fd.add_user("student"), "run", {"lesson": "hello"})
        ordinary = await fd.slash(learner, "try", {"code": "print('fine')"})
        assert "s  World" in (await env.wait_final(lesson)).content
        assert "s  fine" in (await final(fd, ordinary)).content
        assert time.perf_counter() - started < 10  # not held up behind the hostile runs

        for (name, (_, expected)), ix in zip(HOSTILE.items(), submitted, strict=True):
            content = (await final(fd, ix)).content
            assert content.startswith("-# 🧪 Learner code by <@"), (name, content)
            assert expected in content, (name, content)
            assert len(content) <= 2000
        forged = submitted[3].original
        assert forged is not None and "real line" in forged.content and "timings not trusted" in forged.content
        assert "exited with code 3" in forged.content  # its forged "exit" did not decide the status
        flood = submitted[2].original
        assert flood is not None and flood.attachments  # the whole output goes to a file, the message stays short
        prober.cancel()
        assert worst < 0.5, worst
        assert env.runner.active == 0 and env.runner.queued == 0
        after = await final(fd, await fd.slash(fd.add_user("late"), "try", {"code": "print('next')"}))
        assert "s  next" in after.content
