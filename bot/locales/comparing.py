"""How every front-end words a version comparison (`bot.core.compare`): the rows that differ, the lanes that
differ, the Python releases; the console and the Discord bot arrange them each their own way."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.compare import LaneDifference, Row
from bot.core.timeline import format_offset
from bot.core.versions import Pythons
from bot.locales import t

DIFFERS = "≠"  # marks a row or a lane that is not alike on every version
_OUTCOMES = {
    "done": "compare.outcome_done",
    "cancelled": "timeline.cancelled",
    "failed": "timeline.failed",
    "pending": "timeline.pending",
}


def versions_tag(versions: Sequence[str]) -> str:
    """`3.12,3.13`: the versions a row or a lane belongs to."""
    return ",".join(versions)


def row_tag(row: Row, versions: Sequence[str]) -> str:
    """The versions that printed `row`, or "" when every version did."""
    return "" if len(row.times) == len(versions) else versions_tag(row.versions)


def releases_text(pythons: Pythons, versions: Sequence[str]) -> str:
    """`3.11.7 · 3.12.1 · 3.13.0`."""
    return " · ".join(pythons.release(version) for version in versions)


def lane_difference_text(diff: LaneDifference, language: str) -> str:
    """`≠ say: only on Python 3.11` / `≠ worker ends differently: 3.11 cancelled · 3.12 done` / … ."""
    name = diff.name if diff.occurrence == 1 else f"{diff.name} #{diff.occurrence}"
    if diff.kind == "only":
        return t(language, "compare.lane_only", mark=DIFFERS, name=name, versions=versions_tag(list(diff.ends)))
    if diff.kind == "outcome":
        words = {v: t(language, _OUTCOMES.get(str(end), "timeline.pending")) for v, end in diff.ends.items()}
        ends = " · ".join(f"{v} {word}" for v, word in words.items())
        return t(language, "compare.lane_outcome", mark=DIFFERS, name=name, ends=ends)
    times = " · ".join(f"{v} {format_offset(float(end))}" for v, end in diff.ends.items())
    return t(language, "compare.lane_time", mark=DIFFERS, name=name, ends=times)
