"""`corobot db …`: migrate, copy SQLite to PostgreSQL while the bot runs, back up a SQLite file online.

Consistency of the online copy and backup: corobot's SQLite files are in WAL mode, where a read
transaction sees the database exactly as it was when it began, for as long as it lasts, while other
connections (the running bot) keep committing to the WAL — a checkpoint never overwrites a page a
reader still needs.  `copy_to_postgres` counts every table and reads every row inside one such read
transaction, writes everything in one PostgreSQL transaction, and commits only when each table's row
count in PostgreSQL equals the count in the snapshot.  `backup_sqlite` uses SQLite's backup API in one
step, which also reads one snapshot.
"""

from __future__ import annotations

import logging
import os
import shlex
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import aiosqlite

from bot.core.errors import StorageConflict, StorageError, StorageSchemaError, StorageUnavailable
from bot.storage.faults import sqlite_fault
from bot.storage.migrations import IDENTITY_TABLES, LATEST, TABLES
from bot.storage.postgres import PostgresStorage, postgres_fault
from bot.storage.sql import SqlStorage

log = logging.getLogger(__name__)

COPY_BATCH = 5000


@dataclass(slots=True)
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)  # per table, as counted in the snapshot and the target
    replaced: int = 0  # rows the target held before (only with replace=True)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def migrate(storage: SqlStorage) -> tuple[int, int]:
    """Open `storage` without migrating, then migrate it: (version before, version after)."""
    await storage.open(migrate=False)
    try:
        return await storage.migrate()
    finally:
        await storage.close()


def _readonly_uri(path: Path) -> str:
    return f"file:{quote(str(path.resolve()))}?mode=ro"


def _require_file(path: Path, operation: str) -> None:
    if not path.is_file():
        raise StorageUnavailable(operation, str(path), "there is no such database file")


async def copy_to_postgres(
    source: Path, target_url: str, *, replace: bool = False, batch: int = COPY_BATCH
) -> CopyReport:
    """Copy every row of the SQLite file `source` (which the bot may be writing meanwhile) into the
    PostgreSQL database `target_url`, migrated first.  Refuses a target that holds rows unless `replace`."""
    operation = "copy the database"
    _require_file(source, operation)
    report = CopyReport()
    target = PostgresStorage(target_url)
    try:
        src = await aiosqlite.connect(_readonly_uri(source), uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise sqlite_fault(exc, operation, source) from None
    try:
        await src.execute("BEGIN")  # deferred: the first read below starts the snapshot
        counts: dict[str, int] = {}
        for table in TABLES:  # the snapshot starts at the first of these reads
            async with src.execute(f"SELECT COUNT(*) FROM {table}") as cur:
                row = await cur.fetchone()
            counts[table] = int(row[0]) if row else 0
        async with src.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        if (version := int(row[0]) if row else 0) != LATEST:
            raise StorageSchemaError(
                operation, str(source), f"its schema version is {version}, this corobot's is {LATEST}",
                "Run `corobot db migrate` on it first",
            )  # fmt: skip
        await target.open()
        before = await target.row_counts()
        if any(before.values()) and not replace:
            held = ", ".join(f"{table} {n}" for table, n in before.items() if n)
            raise StorageConflict(
                operation, target.target, f"the target already holds rows ({held})",
                "Copy into an empty database, or pass --replace to empty it first",
            )  # fmt: skip
        report.replaced = sum(before.values()) if replace else 0
        async with target.pool.acquire() as con, con.transaction():
            if replace:
                await con.execute(f"TRUNCATE {', '.join(TABLES)}")
            for table in TABLES:
                async with src.execute(f"SELECT * FROM {table}") as cur:
                    columns = [d[0] for d in cur.description]
                    while rows := list(await cur.fetchmany(batch)):
                        await con.copy_records_to_table(table, records=[tuple(r) for r in rows], columns=columns)
                copied = int(await con.fetchval(f"SELECT COUNT(*) FROM {table}"))
                if copied != counts[table]:  # raising here rolls the whole copy back
                    raise StorageError(
                        operation, target.target, f"{table}: {copied} rows in the target, {counts[table]} in the source"
                    )
                report.rows[table] = copied
            # the ids came with the rows: each identity continues after the largest
            for table in IDENTITY_TABLES:
                await con.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {table}"
                )
    except sqlite3.Error as exc:
        raise sqlite_fault(exc, operation, source) from None
    except StorageError:
        raise
    except Exception as exc:  # asyncpg's errors, a lost connection
        raise postgres_fault(exc, operation, target_url) from None
    finally:
        await src.close()
        await target.close()
    log.info("copied %d rows from %s to %s", report.total, source, target.target)
    return report


def backup_sqlite(source: Path, destination: Path, *, overwrite: bool = False) -> dict[str, int]:
    """Write a consistent copy of `source` (which may be in use) to `destination`, check it, return its
    row counts.  The copy appears under its name only once complete (written beside it, then renamed)."""
    operation = "back up the database"
    _require_file(source, operation)
    if destination.exists() and not overwrite:
        raise StorageConflict(operation, str(destination), "the file exists", "Choose another name or pass --force")
    if not destination.parent.is_dir():
        raise StorageUnavailable(operation, str(destination), "its folder does not exist")
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        src = sqlite3.connect(_readonly_uri(source), uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst)  # pages=-1: one step, so one read transaction and one snapshot
                check = dst.execute("PRAGMA integrity_check").fetchone()
                if check is None or check[0] != "ok":
                    raise StorageError(operation, str(destination), f"the copy fails its integrity check: {check}")
                counts = {t: int(dst.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}
            finally:
                dst.close()
        finally:
            src.close()
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, destination)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise sqlite_fault(exc, operation, source) from None
    except StorageError:
        partial.unlink(missing_ok=True)
        raise
    return counts


def pg_dump_command(url: str, destination: Path) -> str:
    """The pg_dump command that backs up the PostgreSQL database `url` (its password left out: pg_dump
    takes it from PGPASSWORD or ~/.pgpass)."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    clean = urlunsplit(parts._replace(netloc=netloc))
    return f"pg_dump --format=custom --file {shlex.quote(str(destination))} {shlex.quote(clean)}"
