"""The quota's behaviour, shared by its implementations' tests (memory here; the database in tests/storage)."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.playground.quota import LearnerQuota, QuotaLimits, Window

LIMITS = QuotaLimits(user=Window(3, 60.0), guild=Window(5, 100.0))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def per_user_then_per_guild(quota: LearnerQuota, clock: Clock) -> None:
    """Three runs per user a minute, five per server in 100 s; a refusal says which and when to retry."""
    for _ in range(3):
        assert (await quota.take(1, 7)).allowed
        clock.now += 10
    refused = await quota.take(1, 7)
    assert (refused.allowed, refused.scope) == (False, "user")
    assert refused.retry_after == pytest.approx(30.0)  # the first use (30 s ago) leaves the 60 s window in 30 s
    assert (await quota.take(1, 8)).allowed and (await quota.take(1, 9)).allowed  # others: the server has room
    full = await quota.take(1, 10)
    assert (full.allowed, full.scope) == (False, "guild")
    assert full.retry_after == pytest.approx(70.0)
    assert (await quota.take(2, 10)).allowed  # another server
    clock.now += 31  # user 7's first run has left its window; the server's 100 s window still holds five
    assert (await quota.take(1, 7)).scope == "guild"
    clock.now += 40
    assert (await quota.take(1, 7)).allowed  # a refused take counted nothing


async def concurrent_takes(quota: LearnerQuota) -> None:
    results = await asyncio.gather(*(quota.take(1, 7) for _ in range(10)))
    assert sum(r.allowed for r in results) == 3
