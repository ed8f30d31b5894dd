"""SQLite storage through aiosqlite: one file in the data folder, WAL mode, versioned migrations.

One connection; writes take an asyncio lock and `BEGIN IMMEDIATE`, so transactions never interleave and
another process's write lock is waited for up to `busy_timeout` seconds (then `StorageBusy`).  WAL lets
reads go on while another process writes, and lets `corobot db backup` / `db copy` read a consistent
snapshot while the bot keeps writing.  A file that is not a database, is damaged or cannot be written is
reported at start-up as a `StorageError` that names the file; a fault while running (full disk, read-only
file, lock) fails only the write that met it: reads go on, the connection stays usable, and writes resume
once the fault clears.

`synchronous=FULL`: each commit is on the disk before the write returns (an fsync of the WAL, ~0.1 ms here).
With NORMAL, commits since the last checkpoint survive a crash of corobot but not of the machine, nor a file
system the kernel forces read-only after a disk error: tests/storage/test_faults.py lost every row that way.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from bot.core.errors import StorageCorrupt, StorageError, StorageUnavailable
from bot.storage.faults import sqlite_fault
from bot.storage.migrations import MIGRATIONS, Dialect
from bot.storage.primitives import Tx
from bot.storage.sql import Row, SqlStorage

log = logging.getLogger(__name__)
T = TypeVar("T")

OPEN_HINT = (
    "Check that the file is a corobot database and that the data folder is writable; the file was left untouched"
)


class SqliteStorage(SqlStorage):
    """Implements `bot.core.storage.Storage` on one SQLite file."""

    dialect: Dialect = "sqlite"

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        super().__init__(str(path))
        self.path = path
        self.busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()  # one connection: transactions must not interleave

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StorageUnavailable("use the database", self.target, "the storage is not open")
        return self._db

    async def open(self, *, migrate: bool = True) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            await self._db.execute("PRAGMA journal_mode=WAL")
            await self._db.execute("PRAGMA synchronous=FULL")  # see the module docstring
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
            async with self._db.execute("PRAGMA quick_check") as cur:
                row = await cur.fetchone()
            if row is None or row[0] != "ok":
                raise StorageCorrupt(
                    "use the database", self.target, f"the integrity check failed: {row[0] if row else 'no answer'}"
                )
            if migrate:
                await self.migrate()
            else:
                await self.check_version()
        except (sqlite3.Error, OSError, StorageError) as exc:
            await self.close()
            error = sqlite_fault(exc, "use the database", self.path)
            if type(error) is StorageError:  # no better diagnosis: say what to check
                error = StorageError(error.operation, error.target, error.cause, OPEN_HINT)
            raise error from None

    async def close(self) -> None:
        if self._db is not None:
            db, self._db = self._db, None
            with suppress(sqlite3.Error, ValueError):
                await db.close()

    async def schema_version(self) -> int:
        [(version,)] = await self._fetch("read the schema version", "PRAGMA user_version")
        return int(version)

    async def migrate(self) -> tuple[int, int]:
        before = version = await self.check_version()
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._transaction() as db:
                for statement in migration.statements("sqlite"):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")
            log.info("database %s migrated to schema version %d: %s", self.path, number, migration.description)
            version = number
        return before, version

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            db = self.db
            await db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:  # SQLite may already have rolled back (a full disk, an I/O error)
                    with suppress(sqlite3.Error):
                        await db.rollback()
                raise
            await db.commit()

    @asynccontextmanager
    async def _failures(self, operation: str) -> AsyncIterator[None]:
        """Turn what sqlite3/aiosqlite raise into a reported `StorageError`."""
        try:
            yield
        except (sqlite3.Error, OSError, ValueError) as exc:
            raise self._report(self._fault(exc, operation)) from exc

    async def _write(self, operation: str, sql: str, params: Sequence[Any] = ()) -> None:
        async with self._failures(operation), self._transaction() as db:
            await db.execute(sql, params)
        self._recovered()

    async def _write_many(self, operation: str, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self._failures(operation), self._transaction() as db:
            await db.executemany(sql, rows)
        self._recovered()

    async def _fetch(self, operation: str, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._failures(operation), self.db.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def _atomic(self, operation: str, work: Callable[[Tx], Awaitable[T]]) -> T:
        async with self._failures(operation), self._transaction() as db:
            result = await work(_SqliteTx(db))
        self._recovered()
        return result

    def _fault(self, exc: BaseException, operation: str) -> StorageError:
        if isinstance(exc, ValueError):  # aiosqlite: the connection was closed under us
            return StorageUnavailable(operation, self.target, f"the connection is closed ({exc})")
        return sqlite_fault(exc, operation, self.path)


class _SqliteTx:
    """`bot.storage.primitives.Tx` on the connection, inside `SqliteStorage._transaction`."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        async with self._db.execute(sql, params) as cur:
            return cur.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._db.executemany(sql, rows)

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self._db.execute(sql, params) as cur:
            return list(await cur.fetchall())
