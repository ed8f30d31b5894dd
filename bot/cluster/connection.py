"""Connecting to Redis: one client per process (a pool inside), decoded text, bounded waits."""

from __future__ import annotations

import logging

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.utils import HIREDIS_AVAILABLE

from bot.storage.faults import redact

log = logging.getLogger(__name__)

SOCKET_TIMEOUT = 10.0  # seconds any reply may take (blocking reads block for at most 1 s)
MAX_CONNECTIONS = 64  # per process; a burst of calls queues for a connection instead of opening hundreds


def connect(url: str, *, name: str) -> Redis:
    """A client for `url`, named `name` in Redis's CLIENT LIST, over at most MAX_CONNECTIONS connections.  Text is
    UTF-8 with surrogate escapes (a lesson's code round-trips byte for byte); replies are parsed by hiredis when
    installed (it is a dependency).

    No automatic retries: a script that timed out may have run, and running it again could enqueue a run twice;
    every caller decides what a failed call means (a refusal the member can retry, or a loop that tries again)."""
    log.info("redis: %s as %s (%s parser)", redact(url), name, "hiredis" if HIREDIS_AVAILABLE else "Python")
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=SOCKET_TIMEOUT,  # a call waits this long for a free connection rather than failing at once
        decode_responses=True,
        encoding_errors="surrogateescape",
        client_name=name,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=5.0,
        socket_keepalive=True,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )
    client: Redis = Redis.from_pool(pool)
    return client


def where(url: str) -> str:
    """The URL for messages (no password)."""
    return redact(url)
