"""The operator's endpoint of one process (`ops.listen`): `GET /metrics` (Prometheus text format) and
`GET /healthz` (JSON; 200 when every check passes, 503 otherwise).

It is served by aiohttp (already a dependency of discord.py) in the process's own event loop, so an answer
at all means the loop is alive; the loop-lag check says whether it is also prompt.  Each check is a small async
function returning `(ok, detail)`; a check that raises or takes more than 2 s counts as failed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.ops.metrics import LoopLag, Metrics

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[tuple[bool, str]]]
CHECK_TIMEOUT = 2.0
LAG_LIMIT = 0.25  # seconds of typical loop lag (the median of the last 10 s) beyond which the process is unhealthy


class OpsServer:
    def __init__(self, metrics: Metrics, lag: LoopLag, listen: str) -> None:
        self.metrics = metrics
        self.lag = lag
        host, _, port = listen.rpartition(":")
        self.host = host or "0.0.0.0"
        self.port = int(port)
        self.checks: dict[str, Check] = {"loop": self._loop_check}
        self.started = time.time()
        self._runner: web.AppRunner | None = None

    def check(self, name: str, check: Check) -> None:
        self.checks[name] = check

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._health)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        for address in self._runner.addresses:  # the real port when 0 was asked for
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break
        log.info("metrics on http://%s:%d/metrics, health on /healthz", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _health(self, _request: web.Request) -> web.Response:
        results = await asyncio.gather(*(self._run(check) for check in self.checks.values()))
        checks = {name: {"ok": ok, "detail": detail} for name, (ok, detail) in zip(self.checks, results, strict=True)}
        healthy = all(ok for ok, _ in results)
        body = {
            "status": "ok" if healthy else "failing",
            "role": self.metrics.role,
            "uptime": round(time.time() - self.started, 1),
            "checks": checks,
        }
        return web.Response(
            status=200 if healthy else 503, text=json.dumps(body, ensure_ascii=False), content_type="application/json"
        )

    async def _run(self, check: Check) -> tuple[bool, str]:
        try:
            return await asyncio.wait_for(check(), CHECK_TIMEOUT)
        except TimeoutError:
            return False, f"no answer within {CHECK_TIMEOUT:g} s"
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"

    async def _loop_check(self) -> tuple[bool, str]:
        """Slow all along (not one stall, such as the start-up's): the median lag of the window."""
        typical, worst = self.lag.typical, self.lag.worst
        window = self.lag.window
        detail = f"lag median {typical * 1000:.1f} ms, worst {worst * 1000:.1f} ms in the last {window:g} s"
        return typical < LAG_LIMIT, detail
