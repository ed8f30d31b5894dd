"""Streaks in the learner's time zone, across midnight and daylight saving; time zone names."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import UnknownTimezone
from bot.core.review.service import may_remind
from bot.core.review.streaks import parse_timezone, streak, zone
from bot.core.storage import ReminderCandidate

UTC = ZoneInfo("UTC")
SHANGHAI = ZoneInfo("Asia/Shanghai")  # UTC+8, no daylight saving
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str, tz: ZoneInfo = UTC) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=tz).timestamp()


def test_parse_timezone() -> None:
    assert parse_timezone("Asia/Shanghai") == "Asia/Shanghai"
    assert parse_timezone(" asia/shanghai ") == "Asia/Shanghai"
    assert parse_timezone("america/new york") == "America/New_York"
    assert parse_timezone("utc") == "UTC"
    assert parse_timezone("UTC+8") == "Etc/GMT-8"  # the IANA Etc zones count the other way round
    assert parse_timezone("+05:00") == "Etc/GMT-5"
    assert parse_timezone("GMT-3") == "Etc/GMT+3"
    with pytest.raises(UnknownTimezone) as close:
        parse_timezone("Asia/Shanghia")
    assert close.value.message_id == "review.unknown_timezone" and close.value.suggestions[0] == "Asia/Shanghai"
    with pytest.raises(UnknownTimezone) as far:
        parse_timezone("Mars/Olympus")
    assert far.value.message_id == "review.unknown_timezone_none" and far.value.params["name"] == "Mars/Olympus"
    with pytest.raises(UnknownTimezone):
        parse_timezone("UTC+20")
    assert zone(None) == UTC and zone("No/Such") == UTC


def test_the_same_moments_make_different_days_in_different_zones() -> None:
    """23:30 and 00:30 UTC are two days in UTC but one morning (07:30, 08:30) in Shanghai."""
    moments = [at("2026-03-01T23:30"), at("2026-03-02T00:30")]
    now = at("2026-03-02T01:00")
    assert streak(moments, UTC, now).current == 2
    in_shanghai = streak(moments, SHANGHAI, now)
    assert (in_shanghai.current, in_shanghai.days, in_shanghai.today) == (1, 1, True)


def test_a_streak_survives_until_the_local_day_ends() -> None:
    days = [at(f"2026-03-0{d}T20:00", SHANGHAI) for d in (1, 2, 3)]
    tz = SHANGHAI
    morning = streak(days, tz, at("2026-03-04T09:00", SHANGHAI))  # nothing yet today: still alive
    assert (morning.current, morning.today, morning.at_risk) == (3, False, True)
    late = streak(days, tz, at("2026-03-04T23:59", SHANGHAI))
    assert late.current == 3
    missed = streak(days, tz, at("2026-03-05T00:01", SHANGHAI))  # a whole local day without anything
    assert (missed.current, missed.best) == (0, 3)
    # the same instant in UTC is still 2026-03-04 16:01: the streak is alive there
    assert streak(days, UTC, at("2026-03-05T00:01", SHANGHAI)).current == 3


def test_best_streak_and_gaps() -> None:
    moments = [at(f"2026-01-{d:02d}T12:00") for d in (1, 2, 3, 4, 10, 11)]
    result = streak(moments, UTC, at("2026-01-11T13:00"))
    assert (result.current, result.best, result.days, result.today) == (2, 4, 6, True)


def test_daylight_saving_day_is_still_one_day() -> None:
    """New York springs forward on 2026-03-08 (a 23-hour day): the streak counts days, not 24 h blocks."""
    moments = [at("2026-03-07T23:00", NEW_YORK), at("2026-03-08T23:30", NEW_YORK), at("2026-03-09T00:10", NEW_YORK)]
    assert streak(moments, NEW_YORK, at("2026-03-09T08:00", NEW_YORK)).current == 3


def test_reminders_wait_for_the_local_hour_and_come_once_a_local_day() -> None:
    shanghai = ReminderCandidate(1, 2, "Asia/Shanghai", None, due=3)
    assert not may_remind(shanghai, at("2026-03-02T17:59", SHANGHAI), hour=18)
    assert may_remind(shanghai, at("2026-03-02T18:00", SHANGHAI), hour=18)
    sent = ReminderCandidate(1, 2, "Asia/Shanghai", at("2026-03-02T18:00", SHANGHAI), due=3)
    assert not may_remind(sent, at("2026-03-02T23:00", SHANGHAI), hour=18)  # once today already
    assert may_remind(sent, at("2026-03-03T18:05", SHANGHAI), hour=18)  # the next local day
    utc = ReminderCandidate(1, 2, None, None, due=3)  # no time zone set: UTC
    assert not may_remind(utc, at("2026-03-02T18:00", SHANGHAI), hour=18)  # 10:00 UTC
    assert not may_remind(ReminderCandidate(1, 2, None, None, due=0), at("2026-03-02T20:00"), hour=18)
