"""Streaming a run under stress: long output, gateway drops, 429/500, hostile output, queueing, shutdown,
expired interaction tokens."""

from __future__ import annotations

import re

from tests.discord_app.env import is_final

LINE = re.compile(r"^\+(\d+\.\d{3})s  (mid|line) (\d+)$", re.M)


def _numbers(content: str) -> list[int]:
    return [int(m.group(3)) for m in LINE.finditer(content)]


def _calls_for(env, ix) -> list:
    return [r for r in env.fd.requests if ix.token in r.path]


async def test_hundred_lines_over_ten_seconds(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "hundred"})
        msg = await env.wait_final(ix, limit=60)
        # the message shows the last lines in order, each with its time; the attachment has all 100
        shown = _numbers(msg.content)
        assert shown == list(range(100 - len(shown), 100)) and len(shown) >= 20
        if len(shown) < 100:
            assert f"{100 - len(shown)} earlier lines hidden" in msg.content
            attached = msg.attachments[0].data.decode().splitlines()
        else:
            attached = [m.group(0) for m in LINE.finditer(msg.content)]
        assert [int(x.split()[-1]) for x in attached] == list(range(100))
        times = [float(x[1 : x.index("s")]) for x in attached]
        assert times == sorted(times) and 8.0 < times[-1] - times[0] < 14.0
        calls = _calls_for(env, ix)
        assert len(calls) <= 15, calls
        assert all(r.status != 429 for r in env.fd.requests)
        assert msg.edits >= 5  # it was edited live, not only at the end


async def test_gateway_drop_mid_run_resumes_and_loses_nothing(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "mid"})
        await env.fd.wait_until(lambda: ix.original is not None and "mid 00" in ix.original.content)
        await env.fd.drop_gateway()
        await env.fd.wait_resumed()
        msg = await env.wait_final(ix)
        assert _numbers(msg.content) == list(range(20))
        assert env.fd.gateway.resumes >= 1
        # the bot still answers interactions after the resume
        again = await env.fd.click(alice, msg, "cb:run:a:stream:mid")
        assert _numbers((await env.wait_final(again)).content) == list(range(20))


async def test_forced_429_and_500_on_edits_are_retried(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "mid"})
        await env.fd.wait_until(lambda: ix.original is not None and not ix.original.loading)
        env.fd.fail_next("PATCH", r"/webhooks/.*/messages/@original", status=429, retry_after=0.3)
        await env.fd.wait_until(lambda: any(r.status == 429 for r in env.fd.requests))
        env.fd.fail_next("PATCH", r"/webhooks/.*/messages/@original", status=500)
        msg = await env.wait_final(ix, limit=30)
        assert _numbers(msg.content) == list(range(20))
        statuses = [r.status for r in _calls_for(env, ix)]
        assert 429 in statuses and 500 in statuses and statuses[-1] == 200


async def test_hostile_output_cannot_ping_escape_or_colour(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "unsafe"})
        msg = await env.wait_final(ix)
        body = [r.json for r in _calls_for(env, ix) if isinstance(r.json, dict) and "content" in r.json]
        assert body and all(b.get("allowed_mentions") == {"parse": []} for b in body)
        assert msg.mentioned_user_ids() == [] and not msg.mentions_everyone()
        assert "\x1b" not in msg.content and "``" not in msg.content.replace("```", "", msg.content.count("```"))
        assert msg.content.count("```") % 2 == 0
        block = msg.content.split("```")[1]
        assert "@everyone hello" in block and "red and" in block and "after" in block
        assert "closing the block" in block  # the printed ``` stayed inside the block


async def test_two_users_one_slot_second_sees_queue_then_output(make_env):
    async with make_env(runner={"max_concurrent": 1}) as env:
        alice, bob, carol = env.fd.add_user("alice"), env.fd.add_user("bob"), env.fd.add_user("carol")
        first = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "mid"})
        second = await env.fd.slash(bob, "run", {"lesson": "stream", "example": "short"})
        third = await env.fd.slash(carol, "run", {"lesson": "stream", "example": "short"})
        for ix in (first, second, third):
            await env.wait_final(ix)
        history = [h["content"] for h in third.original.history] + [third.original.content]
        queued = [h for h in history if "queued" in h]
        assert any("1 ahead of you" in h for h in queued), history
        assert any("you're next" in h for h in queued), history
        assert history.index(next(h for h in queued if "1 ahead" in h)) < history.index(
            next(h for h in queued if "you're next" in h)
        )
        assert "s  short done" in third.original.content
        assert any("ahead of you" in h["content"] or "next" in h["content"] for h in second.original.history)


async def test_shutdown_while_streaming_says_so(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "slow"})
        await env.fd.wait_until(lambda: ix.original is not None and "started" in ix.original.content)
        await env.bot.close()
        msg = env.fd.message(ix.original.id)
        assert "restarting" in msg.content and "⏹️ stopped" in msg.content
        assert "s  started" in msg.content


async def test_expired_interaction_continues_in_a_channel_message(make_env):
    async with make_env() as env:
        alice = env.fd.add_user("alice")
        ix = await env.fd.slash(alice, "run", {"lesson": "stream", "example": "mid"})
        await env.fd.wait_until(lambda: ix.original is not None and "mid 0" in ix.original.content)
        env.fd.expire_interaction(ix)
        await env.fd.wait_until(
            lambda: any(is_final(m) and m.id != ix.original.id for m in env.fd.messages()), timeout=30
        )
        fallback = next(m for m in env.fd.messages() if is_final(m) and m.id != ix.original.id)
        assert not fallback.ephemeral and "continued here" in fallback.content
        assert [a.filename for a in fallback.attachments] == ["run-timeline.png"]  # a create carries it too
        assert fallback.attachments[0].data.startswith(b"\x89PNG")
        assert _numbers(fallback.content) == list(range(20))
        assert fallback.allowed_mentions == {"parse": []}
