"""Pieces the benchmark scripts share."""

from __future__ import annotations

import asyncio


async def lag_monitor(stop: asyncio.Event, out: list[float], period: float = 0.01) -> None:
    """Record how late each `period`-second sleep of this loop wakes, until `stop` is set."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(period)
        out.append(loop.time() - start - period)
