"""Fixtures for the cluster tests: the real Redis (127.0.0.1:6379, or TEST_REDIS_URL), each test under its own
key prefix (deleted afterwards), real runners and real runner nodes.

Where Redis does not answer the tests are skipped with the reason — except under CI, where that is a failure
(`.ci/run` starts Redis, installing it from Debian's packages where needed).
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.cluster.admission import WindowQuota
from bot.cluster.connection import connect
from bot.cluster.keys import Keys
from bot.cluster.node import RunnerNode
from bot.cluster.remote import RemoteRunner
from bot.core.runner import Runner, RunnerLimits
from tests.storage.conftest import pg_url as pg_url  # a scratch PostgreSQL database per test

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FAST = {"heartbeat": 0.2, "dead_after": 1.0}  # cluster timing for tests: a dead node is noticed within ~1.2 s


async def clear(redis: Redis, keys: Keys) -> None:
    async for key in redis.scan_iter(match=keys.tag + ":*", count=1000):
        await redis.delete(key)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = connect(REDIS_URL, name="corobot-test")
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        reason = f"Redis does not answer at {REDIS_URL} ({exc}); .ci/run installs and starts it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    yield client
    await client.aclose()


@pytest.fixture
async def keys(redis: Redis) -> AsyncIterator[Keys]:
    """This test's own key prefix; every key under it is deleted afterwards."""
    found = Keys(f"corobot-t-{secrets.token_hex(5)}")
    yield found
    await clear(redis, found)


def limits(**overrides: Any) -> RunnerLimits:
    values: dict[str, Any] = {"max_concurrent": 4, "per_user": 1, "timeout_default": 10.0, **overrides}
    return RunnerLimits(**values)


@pytest.fixture
def cluster(redis: Redis, keys: Keys) -> Callable[..., contextlib.AbstractAsyncContextManager[Any]]:
    """`async with cluster(nodes=1, **limits) as (remote, nodes):` a RemoteRunner and real nodes in this process."""

    @contextlib.asynccontextmanager
    async def factory(
        nodes: int = 1,
        *,
        prefetch: int = 0,
        quotas: tuple[WindowQuota, ...] = (),
        node_limits: dict[str, Any] | None = None,
        **overrides: Any,
    ) -> AsyncIterator[tuple[RemoteRunner, list[RunnerNode]]]:
        async with contextlib.AsyncExitStack() as stack:
            started: list[RunnerNode] = []
            for i in range(nodes):
                runner = await stack.enter_async_context(Runner(limits(**(node_limits or {}))))
                node = RunnerNode(redis, keys, runner, node_id=f"n{i}", prefetch=prefetch, drain=2.0, **FAST)
                await node.start()
                stack.push_async_callback(node.stop)
                started.append(node)
            remote = RemoteRunner(redis, keys, limits(**overrides), quotas=quotas, **FAST)
            await stack.enter_async_context(remote)
            yield remote, started

    return factory

