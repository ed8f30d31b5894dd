"""The learner-run quota in memory: per user and per server, sliding windows, refusals that say when to retry
(the database-backed one runs the same scenarios in tests/storage/test_learner.py)."""

from __future__ import annotations

import pytest

from bot.core.playground.quota import MemoryQuota, QuotaExceeded, decide
from tests.core.playground.scenarios import LIMITS, Clock, concurrent_takes, per_user_then_per_guild


async def test_per_user_then_per_guild_with_the_time_to_retry() -> None:
    clock = Clock()
    await per_user_then_per_guild(MemoryQuota(LIMITS, clock), clock)


async def test_concurrent_takes_never_exceed_the_limit() -> None:
    await concurrent_takes(MemoryQuota(LIMITS, Clock()))


def test_decide_and_the_refusal_text_parameters() -> None:
    assert decide(100.0, LIMITS, [50.0, 60.0], []).allowed
    refused = decide(100.0, LIMITS, [41.0, 50.0, 60.0, 70.0], [])
    assert refused.scope == "user" and refused.retry_after == pytest.approx(10.0)
    error = QuotaExceeded(refused, LIMITS.user)
    assert error.message_id == "playground.quota_user"
    assert error.params == {"count": 3, "minutes": 1, "retry": 10}


async def test_memory_quota_forgets_idle_scopes() -> None:
    clock = Clock()
    quota = MemoryQuota(LIMITS, clock)
    for user in range(100):
        await quota.take(user, user)
    clock.now += 1000
    await quota.take(0, 0)
    assert len(quota._uses) == 2
