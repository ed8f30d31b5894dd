"""Learner code: a learner's own programs (edited examples, `/try`, a message's code block, exercises), run with
the same containment as lesson examples.  `service.Playground` is the gate; `source`, `compare` and `quota`
are its pieces.  No discord here (see `bot/core`'s rule)."""

from __future__ import annotations

from bot.core.playground.compare import RunComparison, compare_runs
from bot.core.playground.quota import LearnerQuota, MemoryQuota, QuotaDecision, QuotaLimits, StorageQuota, Window
from bot.core.playground.service import LearnerRequest, LearnerRun, Playground, PlaygroundLimits
from bot.core.playground.source import Source, code_from_message, code_hash

__all__ = [
    "LearnerQuota",
    "LearnerRequest",
    "LearnerRun",
    "MemoryQuota",
    "Playground",
    "PlaygroundLimits",
    "QuotaDecision",
    "QuotaLimits",
    "RunComparison",
    "Source",
    "StorageQuota",
    "Window",
    "code_from_message",
    "code_hash",
    "compare_runs",
]
