"""Run lesson examples in a sandboxed child process and stream typed events back.

`Runner(RunnerLimits(...))`, then `async for event in runner.run(code, name="two-tasks.py", owner=user_id): ...`
— see `Runner` and `Run`.
The warm worker (`worker.py`) and the in-child harness (`child.py`) are stdlib-only scripts.
"""

from __future__ import annotations

import logging

from bot.core.runner.limits import RunnerLimits
from bot.core.runner.runner import Run, Runner

log = logging.getLogger(__name__)

__all__ = ["Run", "Runner", "RunnerLimits"]
