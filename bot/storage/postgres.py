"""PostgreSQL storage through asyncpg: a connection pool, the same queries and migrations as SQLite.

Queries are written once with `?` parameters (bot/storage/sql.py) and numbered `$1, $2, …` here.  Each
write takes a pooled connection for one transaction; `lock_timeout` turns a lock held too long by someone
else into `StorageBusy`.  Migrations run under a PostgreSQL advisory lock, so several bot processes
starting at once apply each migration exactly once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from typing import Any, TypeAlias, TypeVar

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from bot.core.errors import (
    StorageBusy,
    StorageConflict,
    StorageCorrupt,
    StorageError,
    StorageFull,
    StorageReadOnly,
    StorageSchemaError,
    StorageUnavailable,
)
from bot.storage.faults import redact
from bot.storage.migrations import MIGRATIONS, VERSION_TABLE, VERSION_TABLE_DDL, Dialect
from bot.storage.primitives import Tx
from bot.storage.sql import Row, SqlStorage

log = logging.getLogger(__name__)

T = TypeVar("T")
Connection: TypeAlias = "PoolConnectionProxy[asyncpg.Record]"  # generic only in the type stubs
# a connection that raised one of these is dead or in an unknown state: never reuse it
BROKEN = (asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresConnectionError,
          asyncpg.exceptions.OperatorInterventionError, OSError)  # fmt: skip
DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)
MIGRATION_LOCK = 0x636F726F  # pg_advisory_lock key ("coro"): one migrating process at a time
CONNECT_TIMEOUT = 10.0


@functools.lru_cache(maxsize=256)
def numbered(sql: str) -> str:
    """`?` parameters as PostgreSQL's `$1, $2, …` (corobot's SQL has no `?` inside string literals)."""
    parts = sql.split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, start=1))


_PG_CLASSES: list[tuple[tuple[str, ...], type[StorageError]]] = [
    (("53100",), StorageFull),  # disk_full
    (("25006",), StorageReadOnly),  # read_only_sql_transaction
    (("55P03", "40P01", "40001", "57014"), StorageBusy),  # lock_not_available, deadlock, serialization, timeout
    (("XX001", "XX002"), StorageCorrupt),  # data_corrupted, index_corrupted
    (("23505",), StorageConflict),  # unique_violation
    (("57P01", "57P02", "57P03", "08"), StorageUnavailable),  # shutdown, crash, cannot connect now, connection
    (("3D000", "28"), StorageUnavailable),  # no such database, authentication
    (("42P01", "42703"), StorageSchemaError),  # a table or column missing: not corobot's schema
]


def postgres_fault(exc: BaseException, operation: str, url: str) -> StorageError:
    """The `StorageError` for an exception raised by asyncpg (or the OS, reaching the server)."""
    target = redact(url)
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, asyncpg.PostgresError):
        state = str(getattr(exc, "sqlstate", "") or "")
        cause = f"{exc} (SQLSTATE {state})" if state else str(exc)
        for prefixes, kind in _PG_CLASSES:
            if state.startswith(prefixes):
                return kind(operation, target, cause)
        return StorageError(operation, target, cause)
    if isinstance(exc, (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError)):
        return StorageUnavailable(
            operation, target, str(exc) or type(exc).__name__, "Check that the PostgreSQL server is running"
        )
    if isinstance(exc, TimeoutError):
        return StorageUnavailable(operation, target, "the server did not answer in time")
    return StorageError(operation, target, f"{type(exc).__name__}: {exc}")


class PostgresStorage(SqlStorage):
    """Implements `bot.core.storage.Storage` on a PostgreSQL database given by its URL."""

    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, busy_timeout: float = 5.0, pool_size: int = 10) -> None:
        super().__init__(redact(url))
        self.url = url
        self.busy_timeout = busy_timeout
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise StorageUnavailable("use the database", self.target, "the storage is not open")
        return self._pool

    async def open(self, *, migrate: bool = True) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url,
                min_size=self.pool_size,  # connected up front: a burst of answers waits for no handshake
                max_size=self.pool_size,
                timeout=CONNECT_TIMEOUT,
                server_settings={"application_name": "corobot", "lock_timeout": str(int(self.busy_timeout * 1000))},
            )
            if migrate:
                await self.migrate()
            else:
                await self.check_version()
        except (*DRIVER_ERRORS, StorageError) as exc:
            await self.close()
            raise postgres_fault(exc, "use the database", self.url) from None

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await pool.close()
            except DRIVER_ERRORS:
                pool.terminate()

    async def schema_version(self) -> int:
        what = "read the schema version"
        [(table,)] = await self._fetch(what, "SELECT to_regclass(?)", (VERSION_TABLE,))
        if table is None:
            return 0
        [(version,)] = await self._fetch(what, f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}")
        return int(version)

    async def migrate(self) -> tuple[int, int]:
        before = await self.check_version()

        async def apply(con: Connection) -> int:
            await con.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)  # ends with the session at the latest
            try:
                await con.execute(VERSION_TABLE_DDL)
                version = int(await con.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}"))
                for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                    async with con.transaction():
                        for statement in migration.statements("postgresql"):
                            await con.execute(statement)
                        await con.execute(f"INSERT INTO {VERSION_TABLE} VALUES ($1, now())", number)
                    log.info("database %s migrated to schema version %d: %s", self.target, number,
                             migration.description)  # fmt: skip
                    version = number
                return version
            finally:
                if not con.is_closed():
                    await con.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

        return before, await self._run("migrate the database", apply)

    async def _run(self, operation: str, action: Callable[[Connection], Awaitable[T]]) -> T:
        """`action` on a pooled connection; a connection the server dropped is discarded (the pool opens a
        new one), and every failure becomes a `StorageError`."""
        try:
            async with self.pool.acquire() as con:
                try:
                    return await action(con)
                except BROKEN:
                    with suppress(asyncpg.InterfaceError):  # a connection lost inside a transaction is released
                        con.terminate()  # asyncpg may otherwise hand the dead connection out again
                    await self.pool.expire_connections()  # the server restarted? then so must the others
                    raise
        except DRIVER_ERRORS as exc:
            raise self._report(postgres_fault(exc, operation, self.url)) from exc

    async def _write(self, operation: str, sql: str, params: Sequence[Any] = ()) -> None:
        async def write(con: Connection) -> None:
            await con.execute(numbered(sql), *params)  # one statement outside BEGIN is its own transaction

        await self._run(operation, write)
        self._recovered()

    async def _write_many(self, operation: str, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async def write(con: Connection) -> None:
            async with con.transaction():
                await con.executemany(numbered(sql), rows)

        await self._run(operation, write)
        self._recovered()

    async def _fetch(self, operation: str, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async def fetch(con: Connection) -> list[Row]:
            return [tuple(row) for row in await con.fetch(numbered(sql), *params)]

        return await self._run(operation, fetch)

    async def _atomic(self, operation: str, work: Callable[[Tx], Awaitable[T]]) -> T:
        async def atomic(con: Connection) -> T:
            async with con.transaction():
                return await work(_PostgresTx(con))

        result = await self._run(operation, atomic)
        self._recovered()
        return result


class _PostgresTx:
    """`bot.storage.primitives.Tx` on a pooled connection inside a transaction."""

    def __init__(self, con: Connection) -> None:
        self._con = con

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        status = await self._con.execute(numbered(sql), *params)  # e.g. "DELETE 3", "INSERT 0 1"
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._con.executemany(numbered(sql), rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(row) for row in await self._con.fetch(numbered(sql), *params)]
