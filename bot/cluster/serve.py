"""`corobot runner-node`: a process holding one warm sandboxed `Runner` and serving the cluster's run requests
until SIGTERM/SIGINT (then it drains: see `RunnerNode.stop`).  Called by `bot/__main__.py` with what it built."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from redis.asyncio import Redis

from bot.cluster.keys import Keys
from bot.cluster.node import RunnerNode
from bot.cluster.remote import RemoteRunner
from bot.config import ClusterSettings
from bot.core.runner import Runner
from bot.ops.metrics import Metrics, counter, gauge
from bot.ops.server import Check, OpsServer

log = logging.getLogger(__name__)


async def serve_node(node: RunnerNode, ops: OpsServer | None = None) -> int:
    """Serve until a signal; 0 after a clean drain."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
    if ops is not None:
        ops.check("redis", node_redis_check(node))
        ops.check("heartbeat", node_heartbeat_check(node))
        ops.check("runner", node_runner_check(node.runner))
    await node.start()
    try:
        await stop.wait()
        log.info("runner node %s: stopping (signal)", node.node_id)
    finally:
        for installed_signal in installed:
            loop.remove_signal_handler(installed_signal)
        await node.stop()
    return 0


def build_node(settings: ClusterSettings, redis: Redis, runner: Runner) -> RunnerNode:
    return RunnerNode(
        redis,
        Keys(settings.prefix),
        runner,
        node_id=settings.node_id,
        heartbeat=settings.heartbeat,
        dead_after=settings.dead_after,
        prefetch=settings.prefetch,
        drain=settings.drain,
    )


def node_metrics(metrics: Metrics, node: RunnerNode) -> None:
    """A runner node's counters, read when Prometheus scrapes."""

    def collect() -> Iterator[Metric]:
        stats = node.stats
        runs = CounterMetricFamily("corobot_node_runs", "Runs this node ended, by final status", labels=["status"])
        for status, count in sorted(stats.runs.items()):
            runs.add_metric([status], count)
        yield runs
        yield gauge("corobot_node_active_runs", "Runs in flight on this node", len(node.inflight))
        yield gauge("corobot_node_held_requests", "Requests read and not started (prefetch)", len(node.held))
        yield gauge("corobot_node_capacity", "Concurrent runs this node takes", node.state.capacity)
        yield counter("corobot_node_heartbeats", "Heartbeats sent", stats.heartbeats)
        failures = stats.heartbeat_failures
        yield counter("corobot_node_heartbeat_failures", "Heartbeats that failed (Redis unreachable)", failures)
        age = time.monotonic() - stats.last_heartbeat if stats.last_heartbeat else -1.0
        yield gauge("corobot_node_heartbeat_age_seconds", "Seconds since this node's last heartbeat", age)
        yield counter("corobot_node_claimed_requests", "Requests taken over from dead nodes", stats.claimed)
        yield counter("corobot_node_orphaned_runs", "Runs of dead nodes this node's reaper ended", stats.orphaned)
        yield counter("corobot_node_bad_requests", "Requests this node could not read", stats.bad_requests)

    metrics.sampled(collect)


def cluster_metrics(metrics: Metrics, remote: RemoteRunner) -> None:
    """What a bot process sees of the cluster at its last heartbeat: queue depth, runner nodes' heartbeats."""

    def collect() -> Iterator[Metric]:
        view = remote.view
        yield gauge("corobot_cluster_queue_depth", "Runs waiting for a node, all bot processes", view.queue_depth)
        yield gauge("corobot_cluster_running", "Runs on runner nodes, all bot processes", view.running)
        yield gauge("corobot_cluster_capacity", "Slots of the live runner nodes", view.capacity)
        yield gauge("corobot_runner_nodes_alive", "Runner nodes with a recent heartbeat", len(view.nodes))
        doc = "Seconds since each live node's last heartbeat"
        ages = GaugeMetricFamily("corobot_runner_node_heartbeat_age_seconds", doc, labels=["node"])
        for node, age in sorted(view.nodes.items()):
            ages.add_metric([node], age)
        yield ages

    metrics.sampled(collect)


def node_redis_check(node: RunnerNode) -> Check:
    async def check() -> tuple[bool, str]:
        await node.redis.ping()
        return True, "Redis answers"

    return check


def node_heartbeat_check(node: RunnerNode) -> Check:
    async def check() -> tuple[bool, str]:
        last = node.stats.last_heartbeat
        age = time.monotonic() - last if last else float("inf")
        return age < node.state.dead_after, f"last heartbeat {age:.1f} s ago as {node.node_id}"

    return check


def node_runner_check(runner: Runner) -> Check:
    async def check() -> tuple[bool, str]:
        return True, runner.describe()

    return check
