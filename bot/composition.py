"""Part of the composition root (`bot/__main__.py`): what a deployment of several processes adds — the Redis
client, the runner (in this process, or runner nodes through Redis), the operator's endpoint — built from the
settings and handed to the commands.  The embedded default (no `cluster.redis_url`, no `ops.listen`) builds
exactly what it always did: a `Runner` in this process, and imports neither redis nor prometheus_client.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.core.errors import ConfigError
from bot.core.peers import Peers
from bot.core.playground import LearnerQuota
from bot.core.runner import Runner
from bot.core.runs import RunnerLike
from bot.storage.faults import redact
from bot.storage.sql import SqlStorage

if TYPE_CHECKING:  # imported by the functions that use them
    from redis.asyncio import Redis

    from bot.cluster.admission import WindowQuota
    from bot.discord_app.client import CorobotBot
    from bot.ops.metrics import Metrics
    from bot.ops.server import OpsServer


def open_redis(settings: Settings, stack: AsyncExitStack, role: str) -> Redis | None:
    """The Redis client of a deployment of several processes (`cluster.redis_url`), closed with `stack`."""
    url = settings.cluster.redis_url
    if not url:
        return None
    from bot.cluster.connection import connect  # redis only when configured

    client = connect(url, name=f"corobot-{role}-{os.getpid()}")
    stack.push_async_callback(client.aclose)
    return client


async def open_runner(
    settings: Settings,
    stack: AsyncExitStack,
    redis: Redis | None = None,
    *,
    metrics: Metrics | None = None,
    quotas: Sequence[WindowQuota] = (),
) -> RunnerLike:
    """The configured runner, started and closed with `stack`: the warm worker in this process (the embedded
    default), or runner nodes through Redis (`cluster.runner: nodes`)."""
    cluster = settings.cluster
    runner: RunnerLike
    if redis is not None and cluster.runner == "nodes":
        from bot.cluster.keys import Keys
        from bot.cluster.remote import RemoteRunner
        from bot.cluster.serve import cluster_metrics

        remote = RemoteRunner(
            redis,
            Keys(cluster.prefix),
            settings.runner.limits(),
            heartbeat=cluster.heartbeat,
            dead_after=cluster.dead_after,
            quotas=tuple(quotas),
            where=redact(cluster.redis_url or ""),
        )
        if metrics is not None:
            cluster_metrics(metrics, remote)
        runner = remote
    else:
        runner = Runner(settings.runner.limits())
    if metrics is not None:
        from bot.ops.metered import MeteredRunner
        from bot.ops.metrics import gauge

        inner = runner
        metrics.sampled(
            lambda: [
                gauge("corobot_runs_active", "Runs of this process running now", inner.active),
                gauge("corobot_runs_queued", "Runs of this process waiting for a slot", inner.queued),
            ]
        )
        runner = MeteredRunner(runner, metrics)
    await stack.enter_async_context(runner)
    return runner


async def open_ops(settings: Settings, stack: AsyncExitStack, role: str) -> tuple[Metrics, OpsServer] | None:
    """/metrics and /healthz on `ops.listen`, with the loop-lag probe; None when not configured."""
    if not settings.ops.listen:
        return None
    from bot.ops.metrics import LoopLag, Metrics
    from bot.ops.server import OpsServer

    metrics = Metrics(role)
    lag = LoopLag(metrics)
    probe = asyncio.create_task(lag.run(), name="corobot-loop-lag")  # strong ref; cancelled with the stack
    stack.callback(probe.cancel)
    server = OpsServer(metrics, lag, settings.ops.listen)
    await server.start()
    stack.push_async_callback(server.stop)
    return metrics, server


async def open_peers(settings: Settings, stack: AsyncExitStack, redis: Redis | None) -> Peers | None:
    """The other bot processes, through Redis pub/sub (None: this process is alone)."""
    if redis is None:
        return None
    from bot.cluster.bus import ClusterBus
    from bot.cluster.keys import Keys

    cluster = settings.cluster
    bus = ClusterBus(redis, Keys(cluster.prefix), heartbeat=cluster.heartbeat, dead_after=cluster.dead_after)
    await bus.start()
    stack.push_async_callback(bus.close)
    return bus


def learner_quota(settings: Settings, redis: Redis | None) -> LearnerQuota | None:
    """Several bot processes: the learner-run quota in Redis, exact across all of them (None: the configured one)."""
    if redis is None:
        return None
    from bot.cluster.keys import Keys
    from bot.cluster.quota import RedisQuota

    return RedisQuota(redis, Keys(settings.cluster.prefix), settings.playground.quota.limits())


def start_quotas(settings: Settings) -> list[WindowQuota]:
    """Several bot processes: the members' start rate limit counted in Redis, across all of them."""
    from bot.cluster.admission import WindowQuota

    rate = settings.discord.rate_limit
    return [WindowQuota("starts", rate.runs, rate.per_seconds)]


def storage_metrics(metrics: Metrics, storage: SqlStorage) -> None:
    from bot.ops.metrics import counter

    metrics.sampled(lambda: [counter("corobot_answers_written", "Quiz answers committed", storage.answers_written)])


def bot_checks(ops: OpsServer, redis: Redis | None, storage: SqlStorage, bot: CorobotBot) -> None:
    """What /healthz checks in a bot process: connected to Discord, Redis answering, the database reachable."""

    async def discord_check() -> tuple[bool, str]:
        ready = bot.is_ready() and not bot.is_closed()
        return ready, f"gateway {'connected' if ready else 'not connected'}, latency {bot.latency * 1000:.0f} ms"

    async def storage_check() -> tuple[bool, str]:
        await storage.progress(0, 0)
        return True, f"{storage.target} answers"

    ops.check("discord", discord_check)
    ops.check("storage", storage_check)
    if redis is not None:
        client = redis

        async def redis_check() -> tuple[bool, str]:
            await client.ping()
            return True, "Redis answers"

        ops.check("redis", redis_check)


async def run_node(settings: Settings) -> int:
    """`corobot runner-node`: serve until a signal."""
    from redis.exceptions import RedisError

    from bot.cluster.serve import build_node, node_metrics, serve_node

    async with AsyncExitStack() as stack:
        ops = await open_ops(settings, stack, "runner-node")
        redis = open_redis(settings, stack, "node")
        assert redis is not None
        runner = await stack.enter_async_context(Runner(settings.runner.limits()))
        node = build_node(settings.cluster, redis, runner)
        if ops is not None:
            node_metrics(ops[0], node)
        try:
            return await serve_node(node, ops[1] if ops is not None else None)
        except RedisError as exc:
            raise ConfigError(f"runner node: Redis at {redact(settings.cluster.redis_url or '')}: {exc}") from None


