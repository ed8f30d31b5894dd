"""Quotas for learner runs: at most so many runs per user and per server in a sliding window, separate from
the lesson runs' rate limit.

`LearnerQuota` is the interface (one method, `take`); two implementations live here:

* `MemoryQuota` — in this process's memory: exact, fast, forgotten on restart; one bot process only.
* `StorageQuota` — in the database (`quota_uses`): survives a restart and is shared by every bot process on
  that database; exact within one process (its check-and-count holds a lock), approximate across processes
  (two processes may both take the last slot at the same instant).

A Redis-backed implementation for several bot processes fits the same interface.  `take` counts the run for
the user and the server together, only when both have room; a refusal says which limit and when the oldest
counted run leaves the window (`retry_after`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.core.errors import CorobotError
from bot.core.storage import LearnerStorage

log = logging.getLogger(__name__)

Scope = Literal["user", "guild"]
FORGET_EVERY = 100  # StorageQuota: every this many takes, delete uses older than the longest window


@dataclass(frozen=True, slots=True)
class Window:
    runs: int
    seconds: float


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    user: Window  # per user, across servers
    guild: Window  # per server, all its members together


@dataclass(frozen=True, slots=True)
class QuotaDecision:
    allowed: bool
    retry_after: float = 0.0  # seconds until a refused run would be allowed
    scope: Scope | None = None  # which limit refused it


class QuotaExceeded(CorobotError):
    def __init__(self, decision: QuotaDecision, window: Window) -> None:
        self.decision = decision
        retry = max(1, math.ceil(decision.retry_after))
        minutes = max(1, round(window.seconds / 60))
        message_id = "playground.quota_guild" if decision.scope == "guild" else "playground.quota_user"
        super().__init__(message_id=message_id, params={"count": window.runs, "minutes": minutes, "retry": retry})


class LearnerQuota(Protocol):
    async def take(self, guild_id: int, user_id: int) -> QuotaDecision:
        """Count one learner run for `user_id` and `guild_id` if both have room, else count nothing and say
        which limit refused it and when to retry."""
        ...


def scopes(guild_id: int, user_id: int) -> tuple[str, str]:
    return f"u:{user_id}", f"g:{guild_id}"


def decide(now: float, limits: QuotaLimits, user_uses: Sequence[float], guild_uses: Sequence[float]) -> QuotaDecision:
    """Whether one more run fits, given each scope's uses (unix times, oldest first) inside its window."""
    checks: tuple[tuple[Scope, Window, Sequence[float]], ...] = (
        ("user", limits.user, user_uses),
        ("guild", limits.guild, guild_uses),
    )
    for scope, window, uses in checks:
        recent = [at for at in uses if at > now - window.seconds]
        if len(recent) >= window.runs:
            oldest = recent[len(recent) - window.runs]  # the use whose leaving the window makes room
            return QuotaDecision(False, max(0.0, oldest + window.seconds - now), scope)
    return QuotaDecision(True)


class MemoryQuota:
    """`LearnerQuota` in this process's memory."""

    def __init__(self, limits: QuotaLimits, clock: Callable[[], float] = time.time) -> None:
        self.limits = limits
        self.clock = clock
        self._uses: dict[str, deque[float]] = {}
        self._swept = clock()

    async def take(self, guild_id: int, user_id: int) -> QuotaDecision:
        now = self.clock()
        if now - self._swept > self._longest:  # once per window: drop every scope with nothing left in it
            self._swept = now
            for scope in list(self._uses):
                self._recent(scope, now)
        user, guild = scopes(guild_id, user_id)
        decision = decide(now, self.limits, self._recent(user, now), self._recent(guild, now))
        if decision.allowed:
            self._uses.setdefault(user, deque()).append(now)
            self._uses.setdefault(guild, deque()).append(now)
        return decision

    def _recent(self, scope: str, now: float) -> deque[float]:
        uses = self._uses.get(scope)
        if uses is None:
            return deque()
        horizon = now - self._longest
        while uses and uses[0] <= horizon:
            uses.popleft()
        if not uses:
            del self._uses[scope]  # memory stays bounded by the scopes active in the window
        return uses

    @property
    def _longest(self) -> float:
        return max(self.limits.user.seconds, self.limits.guild.seconds)


class StorageQuota:
    """`LearnerQuota` in the database (see the module docstring)."""

    def __init__(self, storage: LearnerStorage, limits: QuotaLimits, clock: Callable[[], float] = time.time) -> None:
        self.storage = storage
        self.limits = limits
        self.clock = clock
        self._lock = asyncio.Lock()
        self._takes = 0

    async def take(self, guild_id: int, user_id: int) -> QuotaDecision:
        longest = max(self.limits.user.seconds, self.limits.guild.seconds)
        async with self._lock:
            now = self.clock()
            mine, server = await self.storage.quota_uses(guild_id, user_id, now - longest)
            decision = decide(now, self.limits, mine, server)
            if decision.allowed:
                await self.storage.add_quota_use(guild_id, user_id, now)
                self._takes += 1
                if self._takes % FORGET_EVERY == 0:
                    await self.storage.forget_quota_uses(now - longest)
        return decision
