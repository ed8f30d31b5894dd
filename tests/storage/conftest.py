"""Storage tests run against both databases: a real SQLite file, and a real PostgreSQL server.

Each PostgreSQL test gets its own database `corobot_t_<random>`, created before and dropped after it
(`WITH (FORCE)`), so parallel test runs never see each other's rows.  The server is the one `.ci/run`
makes sure answers: 127.0.0.1:5432, user postgres, trust auth (override with TEST_POSTGRES_URL, an admin
URL to a database that exists).  Where it does not answer the PostgreSQL half is skipped with the reason —
except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from bot.storage.sql import SqlStorage
from bot.storage.sqlite import SqliteStorage
from bot.storage.url import storage_for

ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")


def with_database(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


async def admin_connection() -> asyncpg.Connection:
    try:
        return await asyncpg.connect(ADMIN_URL, timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL does not answer at {ADMIN_URL} ({exc}); .ci/run installs and starts it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A new, empty PostgreSQL database for this test; dropped afterwards."""
    name = f"corobot_t_{secrets.token_hex(6)}"
    admin = await admin_connection()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield with_database(ADMIN_URL, name)
    finally:
        admin = await admin_connection()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'corobot.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def storage_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database of each kind in turn (tests using it run twice)."""
    return str(request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url"))


@pytest.fixture
async def store(storage_url: str) -> AsyncIterator[SqlStorage]:
    storage = storage_for(storage_url, busy_timeout=0.5)
    await storage.open()
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
async def open_sqlite() -> AsyncIterator[Callable[..., Awaitable[SqliteStorage]]]:
    """Open SqliteStorage objects that are closed after the test even when it fails (an open aiosqlite
    connection's thread would keep pytest from exiting)."""
    opened: list[SqliteStorage] = []

    async def open_one(path: Path, **options: Any) -> SqliteStorage:
        storage = SqliteStorage(path, **options)
        await storage.open()
        opened.append(storage)
        return storage

    yield open_one
    for storage in opened:
        await storage.close()


async def answered(url: str, quiz_id: str = "qz", question_id: str = "q1") -> list[int]:
    """The members whose answers a fresh connection to `url` finds: what survived."""
    storage = storage_for(url)
    await storage.open()
    try:
        return sorted(r.user_id for r in await storage.answers(quiz_id, question_id))
    finally:
        await storage.close()
