"""What a runner node's parts share: its identity in the cluster, the requests it holds, its runs in flight."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
from collections import Counter, deque
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bot.cluster.keys import Keys
from bot.cluster.request import RunRequest
from bot.cluster.scripts import Scripts
from bot.core.runner import Run

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Held:
    """A request read from the stream (pending for this node's consumer) and not started yet."""

    entry_id: str
    fields: dict[str, str]


def _future() -> asyncio.Future[bool]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class InFlight:
    request: RunRequest
    run: Run | None = None
    seq: int = 0  # events sent so far (each carries its number: a resent batch is recognised)
    confirmed: asyncio.Future[bool] = field(default_factory=_future)  # START said the run is this node's


@dataclass(slots=True)
class NodeStats:
    """Counters for the metrics endpoint."""

    runs: Counter[str] = field(default_factory=Counter)  # by final status
    claimed: int = 0  # requests taken over from dead nodes
    orphaned: int = 0  # runs of dead nodes this node's reaper ended
    heartbeats: int = 0
    heartbeat_failures: int = 0
    last_heartbeat: float = 0.0  # monotonic
    bad_requests: int = 0


class NodeState:
    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        *,
        capacity: int,
        node_id: str | None,
        heartbeat: float,
        dead_after: float,
        prefetch: int,
        runner_description: str,
        pythons: str = "",
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.scripts = Scripts.register(redis)
        self.base_id = node_id or f"{socket.gethostname()}-{os.getpid()}"
        self.node_id = self.base_id
        self.generation = 0
        self.capacity = capacity
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.prefetch = prefetch
        self.runner_description = runner_description
        self.pythons = pythons  # the runner's Python versions, as JSON (bot processes offer what all nodes have)
        self.stats = NodeStats()
        self.held: deque[Held] = deque()
        self.inflight: dict[int, InFlight] = {}
        self.wake = asyncio.Event()  # a slot freed or requests arrived
        self.stopping = False

    @property
    def free(self) -> int:
        return self.capacity - len(self.inflight)

    def take_over(self, claimed: list[Held]) -> None:
        """Requests claimed from a dead node: they go first (they were read before anything this node holds)."""
        self.held.extendleft(reversed(claimed))
        self.stats.claimed += len(claimed)
        self.wake.set()

    def cancel(self, run_id: int) -> bool:
        flight = self.inflight.get(run_id)
        if flight is None or flight.run is None or flight.run.result is not None:
            return False
        log.info("runner node %s: stopping run %s as asked", self.node_id, run_id)
        flight.run.cancel()
        return True

    def description(self) -> dict[str, str]:
        return {
            "host": socket.gethostname(),
            "pid": str(os.getpid()),
            "python": sys.version.split()[0],
            "capacity": str(self.capacity),
            "active": str(len(self.inflight)),
            "held": str(len(self.held)),
            "runner": self.runner_description,
            "pythons": self.pythons,
        }
