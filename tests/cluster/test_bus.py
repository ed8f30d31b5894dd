"""ClusterBus: actions every bot process runs (two buses here = two processes), over the real Redis."""

from __future__ import annotations

import pytest

from bot.cluster.bus import ClusterBus
from bot.core.peers import PeerReply

from .conftest import FAST

pytestmark = pytest.mark.timeout(30)


async def test_broadcast_reaches_the_others_and_collects_their_answers(redis, keys) -> None:
    buses = [ClusterBus(redis, keys, **FAST) for _ in range(3)]
    seen: list[tuple[str, dict]] = []
    for bus in buses:
        await bus.start()

    def handler_of(bus: ClusterBus):
        async def handler(payload):
            seen.append((bus.process, dict(payload)))
            return {"available": 3, "me": bus.process}

        return handler

    try:
        for bus in buses:
            bus.on("reload", handler_of(bus))
        replies = await buses[0].broadcast("reload", {"why": "test"})
        assert sorted(r.process for r in replies) == sorted(b.process for b in buses[1:])
        assert all(r.ok and r.result["me"] == r.process for r in replies)
        assert sorted(p for p, _ in seen) == sorted(b.process for b in buses[1:])  # not the sender itself
        assert all(payload == {"why": "test"} for _, payload in seen)
    finally:
        for bus in buses:
            await bus.close()


async def test_a_failing_handler_answers_with_its_error_and_alone_means_no_wait(redis, keys) -> None:
    first, second = ClusterBus(redis, keys, **FAST), ClusterBus(redis, keys, **FAST)
    await first.start()
    assert await first.broadcast("reload") == []  # alone: nobody to wait for
    await second.start()

    async def broken(payload):
        raise OSError("lessons folder gone")

    second.on("reload", broken)
    try:
        replies = await first.broadcast("reload")
        assert replies == [PeerReply(second.process, False, {"error": "OSError: lessons folder gone"})]
        second.off("reload")
        assert await first.broadcast("reload") == []  # an action nobody handles: no answer, no hang
    finally:
        await first.close()
        await second.close()


async def test_the_learner_quota_holds_across_processes(redis, keys) -> None:
    """Two processes' RedisQuota over one Redis: the member's and the server's windows are counted once, together,
    and a refusal says which limit and when there is room again."""
    from bot.cluster.quota import RedisQuota
    from bot.core.playground import QuotaLimits, Window

    limits = QuotaLimits(user=Window(2, 60.0), guild=Window(3, 60.0))
    first, second = RedisQuota(redis, keys, limits), RedisQuota(redis, keys, limits)
    decisions = [await q.take(guild_id=1, user_id=10) for q in (first, second, first)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[2].scope == "user" and 55 < decisions[2].retry_after <= 60
    assert (await second.take(1, 11)).allowed  # another member: the server's third run
    refused = await first.take(1, 12)
    assert not refused.allowed and refused.scope == "guild"
    assert (await second.take(2, 12)).allowed  # another server: room (nothing was counted for the refusals)
