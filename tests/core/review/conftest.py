"""The service is tested on real databases: the storage suite's fixtures (a SQLite file, a fresh PostgreSQL
database), and a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.core.review.cards import ScheduleSettings
from bot.core.review.service import Learning, LearningSettings
from bot.storage.sql import SqlStorage
from bot.storage.url import storage_for
from tests.core.review.lessons import Lessons, choice, lesson
from tests.storage.conftest import pg_url, sqlite_url, storage_url

__all__ = ["Clock", "clock", "course", "learning", "pg_url", "sqlite_url", "storage_url"]

T0 = 1_767_258_000.0  # 2026-01-01 09:00 UTC


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def course() -> Lessons:
    return Lessons(
        lesson("basics", tags=("basics",), examples=("a", "b"), questions=(choice("q1"), choice("q2"))),
        lesson("tasks", prerequisites=("basics",), tags=("tasks",), questions=(choice("t1"),)),
    )


def open_learning(url: str, course: Lessons, clock: Clock) -> tuple[SqlStorage, Learning]:
    storage = storage_for(url, busy_timeout=0.5)
    settings = LearningSettings(schedule=ScheduleSettings(fuzz=False))
    return storage, Learning(storage, course, settings, clock=clock)


@pytest.fixture
async def learning(storage_url: str, course: Lessons, clock: Clock) -> AsyncIterator[Learning]:
    storage, service = open_learning(storage_url, course, clock)
    await storage.open()
    try:
        yield service
    finally:
        await storage.close()
