"""Gateway resilience: drop → RESUME with replay, op 7 reconnect, op 9 invalid session."""

from __future__ import annotations

from tests.fakediscord import FakeDiscord

from .conftest import DemoBot


async def test_drop_resumes_and_replays_missed_dispatch(fd: FakeDiscord, bot: DemoBot) -> None:
    alice = fd.add_user("alice")
    await fd.drop_gateway(hold=True)
    ix = await fd.slash(alice, "quiz", {"topic": "resume"}, subcommand="start", wait=False)
    assert ix.response is None and not fd.gateway.connected
    missed_seq = fd.gateway.session.seq if fd.gateway.session else 0
    fd.release_gateway()
    await fd.wait_resumed()
    await ix.wait_response()
    assert ix.original is not None and ix.original.content == "quiz on resume"
    resume = [p for p in fd.gateway.received if p["op"] == 6]
    assert len(resume) == 1 and resume[0]["d"]["seq"] < missed_seq  # the client had not seen it
    assert fd.gateway.identifies == 1 and fd.gateway.resumes == 1
    await fd.wait_until(lambda: "resumed" in bot.events)
    assert bot.interactions_seen == [ix.id]  # delivered exactly once


async def test_op7_reconnect_resumes(fd: FakeDiscord, bot: DemoBot) -> None:
    await fd.reconnect_gateway()
    await fd.wait_resumed()
    assert fd.gateway.connections == 2 and fd.gateway.identifies == 1 and fd.gateway.resumes == 1
    ix = await fd.slash(fd.add_user("alice"), "menu")
    assert ix.original is not None and ix.original.content == "menu"


async def test_invalid_session_reidentifies(fd: FakeDiscord, bot: DemoBot) -> None:
    await fd.invalidate_session(resumable=False)
    await fd.wait_until(lambda: fd.gateway.identifies == 2 and fd.gateway.ready.is_set())
    assert fd.gateway.resumes == 0 and bot.events.count("reidentify") == 1
    ix = await fd.slash(fd.add_user("alice"), "menu")
    assert ix.original is not None


async def test_heartbeats_are_acknowledged(fd: FakeDiscord, bot: DemoBot) -> None:
    # discord.py heartbeats right after HELLO, before IDENTIFY; it measures latency from our ACK.
    ops = [p["op"] for p in fd.gateway.received]
    assert ops[:2] == [1, 2]
    await fd.wait_until(lambda: bot.latency != float("inf"))
