"""What an operator watches, as Prometheus metrics (`prometheus-client`), one registry per process.

Counted where it happens: runs (by final status), their wait in the queue and time to the first output line
(`MeteredRunner`, around any `RunnerLike`), Discord REST calls and 429s (an aiohttp trace on discord.py's HTTP
session), event-loop lag (`LoopLag`).  Read when scraped: queue depth and runner-node heartbeats (the cluster
view), answers written (storage's counter), a runner node's own counters (`node_collector`).

No global registry: `Metrics` is built in `bot/__main__.py` and passed to what feeds it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from types import SimpleNamespace
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

WAIT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
FAST_BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 5)


class Metrics:
    def __init__(self, role: str) -> None:
        self.role = role
        self.registry = CollectorRegistry()
        r = self.registry
        up = Gauge("corobot_up", "1 while this process serves; the role label says which kind", ["role"], registry=r)
        up.labels(role).set(1)
        self.runs = Counter("corobot_runs", "Runs that ended, by final status", ["status"], registry=r)
        self.queue_wait = Histogram(
            "corobot_run_queue_wait_seconds", "From admission to Started", buckets=WAIT_BUCKETS, registry=r
        )
        self.first_output = Histogram(
            "corobot_run_first_output_seconds",
            "From admission to the first output line of a run",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        rest_doc = "Discord REST calls, by method and status"
        self.rest = Counter("corobot_discord_rest_requests", rest_doc, ["method", "status"], registry=r)
        limited_doc = "Discord REST answers 429, by scope (user, global, shared)"
        self.rest_429 = Counter("corobot_discord_rest_429", limited_doc, ["scope"], registry=r)
        self.loop_lag = Histogram(
            "corobot_event_loop_lag_seconds",
            "How late a timer fired in this process's event loop",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.loop_lag_max = Gauge("corobot_event_loop_lag_max_seconds", "Worst loop lag of the last 10 s", registry=r)

    def sampled(self, collect: Callable[[], Iterable[Metric]]) -> None:
        """Values read when Prometheus scrapes (queue depth, heartbeats, answers written, a node's counters)."""
        self.registry.register(_Sampled(collect))

    def rest_trace(self) -> aiohttp.TraceConfig:
        """For discord.py's `http_trace`: counts every REST call and every 429 it meets."""
        trace = aiohttp.TraceConfig()

        async def on_end(_session: aiohttp.ClientSession, _ctx: SimpleNamespace, params: Any) -> None:
            status = params.response.status
            self.rest.labels(params.method, str(status)).inc()
            if status == 429:
                scope = params.response.headers.get("X-RateLimit-Scope", "user")
                if params.response.headers.get("X-RateLimit-Global"):
                    scope = "global"
                self.rest_429.labels(scope).inc()

        trace.on_request_end.append(on_end)
        return trace


class _Sampled(Collector):
    def __init__(self, collect: Callable[[], Iterable[Metric]]) -> None:
        self._collect = collect

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._collect()
        except Exception:  # a scrape must not fail because one value could not be read
            log.exception("metrics: reading a sampled value failed")


def gauge(name: str, doc: str, value: float, labels: dict[str, str] | None = None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=list(labels or {}))
    family.add_metric(list((labels or {}).values()), value)
    return family


def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


class LoopLag:
    """Measures how late a short timer fires, every `interval` seconds, in the loop that runs it."""

    def __init__(self, metrics: Metrics, interval: float = 0.25, window: float = 10.0) -> None:
        self.metrics = metrics
        self.interval = interval
        self.window = window
        self.recent: list[tuple[float, float]] = []  # (monotonic, lag)

    def _window(self) -> list[float]:
        cutoff = time.monotonic() - self.window
        return [lag for at, lag in self.recent if at >= cutoff]

    @property
    def worst(self) -> float:
        return max(self._window(), default=0.0)

    @property
    def typical(self) -> float:
        """The median lag of the window: high only when the loop is slow all along, not after one stall."""
        lags = sorted(self._window())
        return lags[len(lags) // 2] if lags else 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            lag = max(0.0, loop.time() - before - self.interval)
            now = time.monotonic()
            self.recent = [(at, value) for at, value in self.recent if at >= now - self.window] + [(now, lag)]
            self.metrics.loop_lag.observe(lag)
            self.metrics.loop_lag_max.set(self.worst)
