"""The operator's endpoint: /metrics and /healthz served for real, fed by a real runner, a real discord.py client
against the emulator, and the loop-lag probe."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import discord
import pytest

from bot.core.runner import Runner, RunnerLimits
from bot.ops.metered import MeteredRunner
from bot.ops.metrics import LoopLag, Metrics, gauge
from bot.ops.server import OpsServer
from tests.fakediscord import FakeDiscord, running

pytestmark = pytest.mark.timeout(60)

HELLO = "import time\nprint('hello', flush=True)\ntime.sleep(0.05)\nprint('bye')\n"


def stall(seconds: float) -> None:
    """Block the event loop, as a slow callback would."""
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


async def fetch(server: OpsServer, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{server.port}{path}") as r:
        return r.status, await r.text()


def value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics:\n{text}")


async def test_runs_are_counted_and_served(tmp_path) -> None:
    metrics = Metrics("bot")
    lag = LoopLag(metrics, interval=0.05)
    server = OpsServer(metrics, lag, "127.0.0.1:0")
    await server.start()
    probe = asyncio.create_task(lag.run())
    try:
        async with MeteredRunner(Runner(RunnerLimits(max_concurrent=2)), metrics) as runner:
            first = await runner.submit(HELLO, owner=1)
            assert (await first.wait()).status == "ok"
            record = [event async for event in runner.run("raise SystemExit(3)")]
            assert record[-1].status == "error"
        metrics.sampled(lambda: [gauge("corobot_test_depth", "a sampled value", 7)])
        status, text = await fetch(server, "/metrics")
        assert status == 200
        assert value(text, 'corobot_up{role="bot"}') == 1
        assert value(text, 'corobot_runs_total{status="ok"}') == 1
        assert value(text, 'corobot_runs_total{status="error"}') == 1
        assert value(text, "corobot_run_queue_wait_seconds_count") == 2
        assert value(text, "corobot_run_first_output_seconds_count") == 1  # the failing run printed nothing
        assert 0 < value(text, "corobot_run_first_output_seconds_sum") < 5
        assert value(text, "corobot_test_depth") == 7
        assert value(text, "corobot_event_loop_lag_seconds_count") >= 1
    finally:
        probe.cancel()
        await server.stop()


async def test_health_says_which_check_failed() -> None:
    metrics = Metrics("runner-node")
    lag = LoopLag(metrics, interval=0.05, window=2.0)
    server = OpsServer(metrics, lag, "127.0.0.1:0")
    await server.start()
    probe = asyncio.create_task(lag.run())

    async def fine() -> tuple[bool, str]:
        return True, "fine"

    async def down() -> tuple[bool, str]:
        raise ConnectionError("Redis went away")

    async def stuck() -> tuple[bool, str]:
        await asyncio.sleep(60)
        return True, "never"

    try:
        server.check("redis", fine)
        status, text = await fetch(server, "/healthz")
        assert status == 200 and '"status": "ok"' in text and '"role": "runner-node"' in text
        server.check("redis", down)
        server.check("discord", stuck)
        status, text = await fetch(server, "/healthz")
        assert status == 503 and "ConnectionError: Redis went away" in text and "no answer within 2 s" in text
        server.check("redis", fine)
        server.check("discord", fine)
        stall(1.2)  # one stall: seen, but the loop is prompt otherwise
        await asyncio.sleep(0.3)
        status, text = await fetch(server, "/healthz")
        assert status == 200 and lag.worst >= 1.0, text
        for _ in range(10):  # slow all along: every turn of the loop takes 0.3 s
            stall(0.3)
            await asyncio.sleep(0)
        status, text = await fetch(server, "/healthz")
        assert status == 503 and "lag median" in text and lag.typical >= 0.25
    finally:
        probe.cancel()
        await server.stop()


async def test_discord_rest_calls_and_429s_are_counted() -> None:
    metrics = Metrics("bot")
    async with FakeDiscord() as fd:
        trace = metrics.rest_trace()
        client = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.05, http_trace=trace)
        async with running(client, fd):
            fd.fail_next("GET", r"^/channels/\d+$", status=429, retry_after=0.1)
            channel = await client.fetch_channel(fd.channel)
            assert channel.id == fd.channel
    sample = metrics.registry.get_sample_value
    assert sample("corobot_discord_rest_429_total", {"scope": "user"}) == 1
    assert (sample("corobot_discord_rest_requests_total", {"method": "GET", "status": "200"}) or 0) >= 2
