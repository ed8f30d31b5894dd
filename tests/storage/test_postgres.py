"""PostgreSQL under real faults: another session holding a lock, the database made read-only, connections
killed by the server, a server that does not answer.  Same guarantees as SQLite: a clear `StorageError`
kind, reads go on, writes resume once the fault clears, nothing committed is lost."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from bot.core.errors import StorageBusy, StorageReadOnly, StorageSchemaError, StorageUnavailable
from bot.core.storage import AnswerRow
from bot.storage.faults import redact
from bot.storage.postgres import PostgresStorage, numbered
from tests.storage.conftest import admin_connection, answered


def answer(uid: int) -> AnswerRow:
    return AnswerRow("qz", "q1", uid, "x", at=1000.0 + uid)


async def kill_connections(database: str) -> int:
    admin = await admin_connection()
    try:
        return len(await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        ))  # fmt: skip
    finally:
        await admin.close()


def test_question_marks_become_numbered_parameters() -> None:
    assert numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)") == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"
    assert numbered("SELECT 1") == "SELECT 1"


def test_passwords_never_reach_messages() -> None:
    assert redact("postgresql://bot:s3cret@db.example:5433/corobot") == "postgresql://bot:***@db.example:5433/corobot"
    assert redact("postgresql://bot@db/corobot") == "postgresql://bot@db/corobot"


async def test_locked_by_another_session(pg_url: str) -> None:
    store = PostgresStorage(pg_url, busy_timeout=0.5)
    await store.open()
    other = await asyncpg.connect(pg_url)
    try:
        await store.record_answer(1, answer(1))
        transaction = other.transaction()
        await transaction.start()
        await other.execute("LOCK TABLE answers IN EXCLUSIVE MODE")  # blocks writers, not readers
        await other.execute("INSERT INTO answers (quiz_id, question_id, user_id, guild_id, answer, at) "
                            "VALUES ('qz', 'q1', 2, 1, '\"other\"', 1.0)")  # fmt: skip
        with pytest.raises(StorageBusy) as err:
            await store.record_answer(1, answer(3))
        assert err.value.operation == "record an answer" and "55P03" in err.value.cause and err.value.retryable
        assert [r.user_id for r in await store.answers("qz", "q1")] == [1]  # reads go on
        await transaction.commit()
        await store.record_answer(1, answer(3))  # the lock is gone: writes resume
    finally:
        await other.close()
        await store.close()
    assert await answered(pg_url) == [1, 2, 3]


async def test_database_made_read_only_while_running(pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    store = PostgresStorage(pg_url)
    await store.open()
    try:
        for uid in range(5):
            await store.record_answer(1, answer(uid))
        admin = await admin_connection()
        try:
            await admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = on')
            await kill_connections(database)  # sessions take the setting when they connect
            with pytest.raises((StorageReadOnly, StorageUnavailable)):  # the pool may meet a killed connection first
                await store.record_answer(1, answer(50))
            with pytest.raises(StorageReadOnly) as err:
                await store.record_answer(1, answer(51))
            assert "25006" in err.value.cause and err.value.message_id == "storage.read_only"
            assert len(await store.answers("qz", "q1")) == 5  # reads go on
            await admin.execute(f'ALTER DATABASE "{database}" SET default_transaction_read_only = off')
            await kill_connections(database)
        finally:
            await admin.close()
        try:  # the first write may meet a killed connection; then the pool replaces them all
            await store.record_answer(1, answer(52))
        except StorageUnavailable:
            await store.record_answer(1, answer(52))
    finally:
        await store.close()
    assert await answered(pg_url) == [0, 1, 2, 3, 4, 52]


async def test_connections_killed_by_the_server(pg_url: str) -> None:
    database = pg_url.rsplit("/", 1)[1]
    store = PostgresStorage(pg_url)
    await store.open()
    try:
        await asyncio.gather(*(store.record_answer(1, answer(uid)) for uid in range(20)))
        assert await kill_connections(database) >= 1
        outcomes = []
        for uid in range(20, 40):
            try:
                await store.record_answer(1, answer(uid))
                outcomes.append(uid)
            except StorageUnavailable as exc:
                assert exc.retryable and exc.target == redact(pg_url)
        assert len(outcomes) >= 19  # one write meets a dead connection, then the pool has replaced them all
    finally:
        await store.close()
    assert await answered(pg_url) == sorted([*range(20), *outcomes])


async def test_a_server_that_does_not_answer() -> None:
    store = PostgresStorage("postgresql://corobot:pw@127.0.0.1:9/corobot")
    with pytest.raises(StorageUnavailable) as err:
        await store.open()
    assert "127.0.0.1:9" in str(err.value) and "pw" not in str(err.value)
    assert "Check that the PostgreSQL server is running" in str(err.value)


async def test_a_database_that_is_not_corobots(pg_url: str) -> None:
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute("CREATE TABLE corobot_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ)")
        await admin.execute("INSERT INTO corobot_schema VALUES (2, now())")  # claims a schema it lacks
    finally:
        await admin.close()
    store = PostgresStorage(pg_url)
    await store.open()
    try:
        with pytest.raises(StorageSchemaError) as err:
            await store.record_answer(1, answer(1))
        assert "answers" in err.value.cause and "42P01" in err.value.cause
    finally:
        await store.close()
