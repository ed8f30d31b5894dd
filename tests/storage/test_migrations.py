"""One list of migrations, two databases: both end with the same tables, columns, keys and indexes.

The only differences allowed are the ones `bot.storage.migrations.TYPES` spells out (checked here too):
64-bit ids and double-precision times in PostgreSQL, an identity column where SQLite has its rowid.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bot.storage.migrations import DIALECTS, IDENTITY_TABLES, LATEST, MIGRATIONS, TABLES, VERSION_TABLE
from bot.storage.postgres import PostgresStorage
from bot.storage.sql import SqlStorage
from bot.storage.sqlite import SqliteStorage
from bot.storage.url import storage_for

# a column's kind, whatever the database calls it
KINDS = {"INTEGER": "int", "REAL": "float", "TEXT": "text", "bigint": "int", "integer": "int",
         "double precision": "float", "text": "text"}  # fmt: skip

Schema = dict[str, Any]


async def sqlite_schema(store: SqliteStorage) -> Schema:
    tables: Schema = {}
    for (table,) in await store.fetch("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        columns = {}
        for _, name, kind, notnull, default, pk in await store.fetch(f"PRAGMA table_info({table})"):
            columns[name] = (KINDS[kind], bool(notnull or pk), default, pk)
        indexes = {}
        for _, name, unique, origin, partial in await store.fetch(f"PRAGMA index_list({table})"):
            if origin == "c":  # made by CREATE INDEX (not the primary key's own)
                cols = tuple(c for _, _, c in await store.fetch(f"PRAGMA index_info({name})"))
                indexes[name] = (cols, bool(unique), bool(partial))
        tables[table] = {"columns": columns, "indexes": indexes}
    return tables


async def postgres_schema(store: PostgresStorage) -> Schema:
    tables: Schema = {}
    names = await store.fetch(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> ? "
        "ORDER BY table_name",
        VERSION_TABLE,
    )
    for (table,) in names:
        pk = {
            name: position
            for name, position in await store.fetch(
                "SELECT k.column_name, k.ordinal_position FROM information_schema.table_constraints c "
                "JOIN information_schema.key_column_usage k USING (constraint_schema, constraint_name) "
                "WHERE c.table_name = ? AND c.constraint_type = 'PRIMARY KEY'",
                table,
            )
        }
        columns = {}
        for name, kind, nullable, default in await store.fetch(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ? ORDER BY ordinal_position",
            table,
        ):
            columns[name] = (KINDS[kind], nullable == "NO", default, pk.get(name, 0))
        indexes = {}
        for name, cols, unique, partial in await store.fetch(
            "SELECT i.relname, ARRAY(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o) "
            "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o), "
            "x.indisunique, x.indpred IS NOT NULL FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_class t ON t.oid = x.indrelid WHERE t.relname = ? AND NOT x.indisprimary",
            table,
        ):
            indexes[name] = (tuple(cols), unique, partial)
        tables[table] = {"columns": columns, "indexes": indexes}
    return tables


async def test_both_databases_end_with_the_same_schema(sqlite_url: str, pg_url: str) -> None:
    lite, pg = storage_for(sqlite_url), storage_for(pg_url)
    await lite.open()
    await pg.open()
    try:
        assert isinstance(lite, SqliteStorage) and isinstance(pg, PostgresStorage)
        ours, theirs = await sqlite_schema(lite), await postgres_schema(pg)
        pg_types = {
            (table, name): kind
            for table, name, kind in await pg.fetch(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'public'"
            )
        }
        identity = await pg.fetch(
            "SELECT table_name, column_name FROM information_schema.columns WHERE is_identity = 'YES'"
        )
    finally:
        await lite.close()
        await pg.close()
    assert sorted(ours) == sorted(theirs) == sorted(TABLES)
    for table in TABLES:
        assert ours[table]["indexes"] == theirs[table]["indexes"], table
        assert list(ours[table]["columns"]) == list(theirs[table]["columns"]), table  # same names, same order
        for name, (kind, not_null, default, pk) in ours[table]["columns"].items():
            their_kind, their_not_null, their_default, their_pk = theirs[table]["columns"][name]
            assert (kind, not_null, pk) == (their_kind, their_not_null, their_pk), (table, name)
            assert default == their_default or (table, "id") in identity, (table, name)  # identity: no default
    # the dialect differences, as declared in TYPES
    assert sorted(identity) == sorted((table, "id") for table in IDENTITY_TABLES)
    for (table, name), kind in pg_types.items():
        if name in ("guild_id", "user_id", "channel_id", "question"):
            assert kind == "bigint", (table, name)
        if name in ("at", "elapsed", "started_at", "completed_at", "updated_at", "due", "last_review", "stability",
                    "difficulty", "seconds", "done_at", "changed_at", "last_sent", "last_posted"):
            assert kind == "double precision", (table, name)
    # runs_user/_example, answers_board/_user, one_session; review_questions_key, review_cards_due/_question,
    # review_log_guild/_user, lessons_done_guild, reminders_enabled
    assert sum(len(t["indexes"]) for t in ours.values()) == 12


def test_every_migration_renders_for_both_databases() -> None:
    for migration in MIGRATIONS:
        for dialect in DIALECTS:
            statements = migration.statements(dialect)
            assert statements and not any("{" in s or "}" in s for s in statements)
    assert MIGRATIONS[0].statements("sqlite")[0].startswith("CREATE TABLE runs (\n        id INTEGER PRIMARY KEY,")


async def test_migrate_is_idempotent_and_reports_versions(storage_url: str) -> None:
    store = storage_for(storage_url)
    await store.open(migrate=False)
    try:
        assert await store.schema_version() == 0
        assert await store.migrate() == (0, LATEST)
        assert await store.migrate() == (LATEST, LATEST)
        assert await store.row_counts() == dict.fromkeys(TABLES, 0)
    finally:
        await store.close()


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    """Several bot processes opening one new PostgreSQL database at once: each migration runs exactly once."""
    stores: list[SqlStorage] = [storage_for(pg_url) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        assert await stores[0].fetch(f"SELECT version FROM {VERSION_TABLE} ORDER BY version") == [
            (n,) for n in range(1, LATEST + 1)
        ]
    finally:
        await asyncio.gather(*(s.close() for s in stores))
