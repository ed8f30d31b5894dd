"""Per-route rate-limit buckets with Discord's headers, and one-shot failure injection."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """``limit`` requests per ``per`` seconds."""

    limit: int
    per: float


@dataclass(frozen=True)
class Rule:
    """Requests whose ``METHOD path`` matches ``pattern`` share a bucket per value of the ``key`` group."""

    name: str
    pattern: re.Pattern[str]
    limit: Limit


def default_rules(channel_messages: Limit, webhooks: Limit) -> list[Rule]:
    """Discord-like limits: 5/5 s per channel for message create and edit, a token bucket for webhooks."""
    return [
        Rule("create-message", re.compile(r"^POST /channels/(?P<key>\d+)/messages$"), channel_messages),
        Rule("edit-message", re.compile(r"^PATCH /channels/(?P<key>\d+)/messages/\d+$"), channel_messages),
        Rule("delete-message", re.compile(r"^DELETE /channels/(?P<key>\d+)/messages/\d+$"), Limit(5, 1.0)),
        Rule("webhook", re.compile(r"^\w+ /webhooks/\d+/(?P<key>[^/]+)(/.*)?$"), webhooks),
        Rule("callback", re.compile(r"^POST /interactions/(?P<key>\d+)/[^/]+/callback$"), Limit(10, 1.0)),
        Rule("threads", re.compile(r"^POST /channels/(?P<key>\d+)/(messages/\d+/)?threads$"), Limit(10, 10.0)),
        Rule("commands", re.compile(r"^\w+ /applications/(?P<key>\d+)/.*commands"), Limit(10, 10.0)),
        Rule("default", re.compile(r"^(?P<key>\w+ /[^/]+)"), Limit(50, 1.0)),
    ]


@dataclass
class _Window:
    start: float
    count: int


@dataclass(frozen=True)
class Decision:
    """What the rate limiter says about one request."""

    allowed: bool
    headers: dict[str, str]
    retry_after: float


class RateLimiter:
    """Fixed-window buckets keyed by (rule, major parameter); answers with Discord's headers."""

    def __init__(self, rules: list[Rule]) -> None:
        self.rules = rules
        self._windows: dict[tuple[str, str], _Window] = {}

    def check(self, method: str, path: str) -> Decision:
        line = f"{method} {path}"
        for rule in self.rules:
            match = rule.pattern.match(line)
            if match is None:
                continue
            key = (rule.name, match.group("key"))
            now = time.monotonic()
            window = self._windows.get(key)
            if window is None or now >= window.start + rule.limit.per:
                window = self._windows[key] = _Window(start=now, count=0)
            reset_after = max(0.001, window.start + rule.limit.per - now)
            # Round up so a client that sleeps exactly reset-after never lands inside the old window.
            reset_after = math.ceil(reset_after * 1000) / 1000
            allowed = window.count < rule.limit.limit
            if allowed:
                window.count += 1
            remaining = max(0, rule.limit.limit - window.count)
            headers = {
                "X-RateLimit-Limit": str(rule.limit.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": hashlib.sha1(rule.name.encode()).hexdigest()[:16],
            }
            if not allowed:
                headers["X-RateLimit-Scope"] = "user"
            return Decision(allowed=allowed, headers=headers, retry_after=reset_after)
        return Decision(allowed=True, headers={}, retry_after=0.0)


@dataclass
class Failure:
    """A forced failure for the next ``times`` requests whose method and path match."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    is_global: bool
    times: int
    body: dict[str, object] | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and self.pattern.search(path) is not None


class FailureInjector:
    def __init__(self) -> None:
        self._failures: list[Failure] = []

    def add(self, failure: Failure) -> None:
        self._failures.append(failure)

    def take(self, method: str, path: str) -> Failure | None:
        for failure in self._failures:
            if failure.matches(method, path):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                return failure
        return None

    @property
    def pending(self) -> list[Failure]:
        return list(self._failures)
