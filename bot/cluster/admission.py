"""Admitting runs into the shared queue: one `ADMIT` script call for a run, or for the runs of one version
comparison (all or none, holding one slot of their member's and counting as one start)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from bot.cluster.keys import Keys
from bot.cluster.remote_run import RemoteRun
from bot.cluster.request import RunRequest
from bot.cluster.scripts import Scripts, text
from bot.core.errors import QueueFull, RunnerError, RunnersUnavailable, StartRateLimited, UserBusy
from bot.core.runner.limits import RunnerLimits

QUEUE_HOLD = 3600.0  # seconds a queued run may hold its member's slot before Redis forgets it


@dataclass(frozen=True, slots=True)
class WindowQuota:
    """At most `limit` run starts per member in any `per_seconds` window, across every bot process."""

    name: str
    limit: int
    per_seconds: float


@dataclass(frozen=True, slots=True)
class Admission:
    scripts: Scripts
    keys: Keys
    limits: RunnerLimits
    quotas: tuple[WindowQuota, ...]
    dead_after: float
    where: str

    async def admit(self, runs: Sequence[RemoteRun], inbox: str) -> list[int]:
        """Each run's place in the queue (<= 0: it starts as soon as a node reads it); raises `UserBusy`,
        `QueueFull`, `StartRateLimited`, `RunnersUnavailable` (also when Redis cannot be reached)."""
        first = runs[0]
        owner = first.owner
        quotas = self.quotas if owner is not None else ()
        k = self.keys
        keys = [k.queue, k.ticket, k.requests, k.user(owner), k.nodes, k.capacity, k.running]
        keys += [k.quota(q.name, owner) for q in quotas if owner is not None]
        args: list[Any] = [
            first.id,
            "" if owner is None else owner,
            self.limits.per_user,
            self.limits.queue_size,
            int(self.dead_after * 1000),
            int(QUEUE_HOLD * 1000),
            inbox,
            repr(first.timeout),
            k.tag,
            len(quotas),
        ]
        for quota in quotas:
            args += [quota.limit, int(quota.per_seconds * 1000)]
        args.append(len(runs))
        for run in runs:
            options = {"python": run.python} if run.python else {}
            if run.stdin:
                options["stdin"] = run.stdin
            fields = RunRequest(run.id, run.code, run.name, run.timeout, owner, inbox, options).fields()
            args += [run.id, len(fields), *fields]
        try:
            reply = await self.scripts.admit(keys=keys, args=args)
        except RedisError as exc:
            raise RunnersUnavailable(f"cannot reach Redis at {self.where}: {exc}") from None
        return self._verdict(reply, quotas)

    def _verdict(self, reply: Any, quotas: Sequence[WindowQuota]) -> list[int]:
        verdict = text(reply[0])
        if verdict == "ok":
            return [int(place) for place in reply[1:]]
        if verdict == "busy":
            raise UserBusy(self.limits.per_user)
        if verdict == "full":
            raise QueueFull(self.limits.queue_size)
        if verdict == "quota":
            quota = quotas[int(reply[1]) - 1]
            raise StartRateLimited(quota.limit, quota.per_seconds, int(reply[2]) / 1000)
        if verdict == "nodes":
            raise RunnersUnavailable(f"no runner node has sent a heartbeat in the last {self.dead_after:g} s")
        raise RunnerError(f"the admission script answered {verdict!r:.40}")
