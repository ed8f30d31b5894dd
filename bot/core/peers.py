"""`Peers`: the other bot processes of a deployment, for actions each of them must perform too (a lesson reload,
an admin action that touches state held in memory).  One process runs an action itself and `broadcast`s it; the
others run the handler they registered with `on` and answer.  `bot.cluster.bus.ClusterBus` implements it over
Redis pub/sub; a single process has no peers (`None` where a `Peers` is expected).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Payload = Mapping[str, Any]
Handler = Callable[[Payload], Awaitable[Payload]]


@dataclass(frozen=True, slots=True)
class PeerReply:
    process: str
    ok: bool
    result: Payload = field(default_factory=dict)  # the handler's answer; {"error": ...} when not ok


class Peers(Protocol):
    def on(self, action: str, handler: Handler) -> None:
        """Run `handler(payload)` when another process broadcasts `action`; what it returns is the answer."""
        ...

    def off(self, action: str) -> None: ...

    async def broadcast(self, action: str, payload: Payload | None = None) -> list[PeerReply]:
        """Have every other live process run `action`; their answers, as many as came within a short wait."""
        ...
