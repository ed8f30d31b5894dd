"""Daily streaks in the learner's own time zone (zoneinfo; UTC unless they set one).

A day counts when the learner ran an example, answered a question or reviewed a card.  The current streak
is the run of consecutive local days ending today — or yesterday, while today is still open.  Activity is
stored per quarter hour of UTC, so a learner who changes their time zone sees their days in the new one.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import UnknownTimezone

UTC_NAME = "UTC"
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])\s*(\d{1,2})(?::?00)?$", re.IGNORECASE)


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def parse_timezone(text: str) -> str:
    """The IANA name for what a learner typed: `Asia/Shanghai`, `asia/shanghai`, `UTC`, or a whole-hour
    offset (`UTC+8`, `+08:00`, `GMT-5`: fixed, without daylight saving); raises `UnknownTimezone`."""
    name = text.strip()
    if name.casefold() in {"utc", "gmt", "z", "utc+0", "utc-0"}:
        return UTC_NAME
    offset = _OFFSET.match(name)
    if offset is not None:
        hours = int(offset.group(2))
        if hours <= 14:
            # the IANA Etc zones count the other way round: UTC+8 is Etc/GMT-8
            return UTC_NAME if hours == 0 else f"Etc/GMT{'-' if offset.group(1) == '+' else '+'}{hours}"
    found = _zones().get(name.casefold().replace(" ", "_"))
    if found is not None:
        return found
    close = difflib.get_close_matches(name.casefold().replace(" ", "_"), list(_zones()), n=3, cutoff=0.6)
    raise UnknownTimezone(text, [_zones()[c] for c in close])


def zone(name: str | None) -> ZoneInfo:
    """The learner's zone; UTC for none (or for a name this machine's time zone data no longer knows)."""
    try:
        return ZoneInfo(name or UTC_NAME)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(UTC_NAME)


def local_day(at: float, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(at, tz).date()


@dataclass(frozen=True, slots=True)
class Streak:
    current: int  # consecutive days up to today (or yesterday, if nothing yet today)
    best: int
    today: bool  # already counted today
    days: int  # active days in all

    @property
    def at_risk(self) -> bool:
        """A streak that ends tonight unless the learner does something today."""
        return self.current > 0 and not self.today


def streak(moments: Iterable[float], tz: ZoneInfo, now: float) -> Streak:
    days = {local_day(at, tz) for at in moments}
    today = local_day(now, tz)
    best = run = 0
    previous: date | None = None
    for day in sorted(days):
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    end = today if today in days else today - timedelta(days=1)
    current = 0
    while end - timedelta(days=current) in days:
        current += 1
    return Streak(current, best, today in days, len(days))
