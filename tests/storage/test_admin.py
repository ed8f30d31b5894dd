"""`corobot db migrate | copy | backup`, while the bot may be writing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.errors import StorageConflict
from bot.core.storage import AnswerRow, RunRecordRow
from bot.storage import admin
from bot.storage.migrations import LATEST, TABLES
from bot.storage.sql import SqlStorage
from bot.storage.sqlite import SqliteStorage
from bot.storage.url import sqlite_path, storage_for

REPO = Path(__file__).resolve().parents[2]


async def fill(store: SqlStorage, n: int) -> None:
    for i in range(n):
        await store.record_run(RunRecordRow(1, i, "l", "e", "ok", 1.0))
        await store.record_answer(1, AnswerRow("qz", "q1", i, ["a", i], at=1000.0 + i))
        await store.save_session(f"s{i}", 1, 10_000 + i, {"i": i})


class Writer:
    """The running bot: a run, then a study session, again and again, in separate transactions, from a few
    rounds before the `async with` body starts until it ends."""

    def __init__(self, store: SqlStorage, start: int) -> None:
        self.store, self.start, self.next = store, start, start
        self.stop, self.going = asyncio.Event(), asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def write(self) -> None:
        while not self.stop.is_set():
            await self.store.record_run(RunRecordRow(2, self.next, "l", "e", "ok", 1.0))
            await self.store.save_session(f"w{self.next}", 2, 20_000 + self.next, {"i": self.next})
            self.next += 1
            if self.next - self.start >= 5:
                self.going.set()
            await asyncio.sleep(0)

    async def __aenter__(self) -> Writer:
        self.task = asyncio.create_task(self.write())
        await self.going.wait()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await self.task


async def test_copy_to_postgres_is_one_snapshot_while_the_bot_writes(sqlite_url: str, pg_url: str) -> None:
    source = storage_for(sqlite_url)
    await source.open()
    try:
        await fill(source, 300)
        async with Writer(source, 1000) as writer:
            report = await admin.copy_to_postgres(sqlite_path(sqlite_url), pg_url, batch=20)
            during = writer.next
        final = await source.row_counts()
    finally:
        await source.close()
    target = storage_for(pg_url)
    await target.open()
    try:
        counts = await target.row_counts()
        assert counts == report.rows and report.total == sum(counts.values())
        assert counts["answers"] == 300 and counts["lesson_progress"] == 0
        # one moment of the source: every run the writer made has its session, at most the last one missing
        assert counts["runs"] - 300 in (counts["sessions"] - 300, counts["sessions"] - 300 + 1)
        assert during > 1005 and final["runs"] > counts["runs"]  # the bot kept writing during the copy
        await target.record_run(RunRecordRow(3, 3, "l", "e", "ok", 1.0))  # identity continues after the copied ids
        [(largest,)] = await target.fetch("SELECT MAX(id) FROM runs")
        assert largest == counts["runs"] + 1
        assert [(r.user_id, r.answer) for r in await target.answers("qz", "q1")][:2] == [(0, ["a", 0]), (1, ["a", 1])]
    finally:
        await target.close()


async def test_copy_refuses_a_target_with_rows_unless_told(sqlite_url: str, pg_url: str) -> None:
    source, target = storage_for(sqlite_url), storage_for(pg_url)
    await source.open()
    await target.open()
    try:
        await fill(source, 3)
        await target.record_answer(9, AnswerRow("other", "q", 1, "z", at=1.0))
        with pytest.raises(StorageConflict, match=r"already holds rows .*answers 1"):
            await admin.copy_to_postgres(sqlite_path(sqlite_url), pg_url)
        assert await target.row_counts() == {**dict.fromkeys(TABLES, 0), "answers": 1, "activity": 1}  # untouched
        report = await admin.copy_to_postgres(sqlite_path(sqlite_url), pg_url, replace=True)
        assert report.replaced == 2 and await target.row_counts() == await source.row_counts() == report.rows
    finally:
        await source.close()
        await target.close()


async def test_backup_while_the_bot_writes_and_restore(tmp_path: Path) -> None:
    path = tmp_path / "data" / "corobot.sqlite3"
    store = SqliteStorage(path)
    await store.open()
    try:
        await fill(store, 200)
        async with Writer(store, 1000):
            counts = await asyncio.to_thread(admin.backup_sqlite, path, tmp_path / "backup.sqlite3")
        with pytest.raises(StorageConflict, match="exists"):
            admin.backup_sqlite(path, tmp_path / "backup.sqlite3")
    finally:
        await store.close()
    assert counts["answers"] == 200 and counts["runs"] - 200 in (counts["sessions"] - 200, counts["sessions"] - 199)
    assert not (tmp_path / "backup.sqlite3.partial").exists()
    # restore: the backup, under the database's name, is a working corobot database
    restored = tmp_path / "restored" / "corobot.sqlite3"
    restored.parent.mkdir()
    restored.write_bytes((tmp_path / "backup.sqlite3").read_bytes())
    again = SqliteStorage(restored)
    await again.open()
    try:
        assert await again.row_counts() == counts
        assert len(await again.answers("qz", "q1")) == 200
    finally:
        await again.close()


def corobot(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
    environ.update(PYTHONPATH=str(REPO), **env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=environ,
        check=False,
    )  # fmt: skip


async def test_the_db_commands(tmp_path: Path, pg_url: str) -> None:
    data = str(tmp_path / "data")
    first = await asyncio.to_thread(corobot, "db", "migrate", cwd=tmp_path, COROBOT_DATA_DIR=data)
    again = await asyncio.to_thread(corobot, "db", "migrate", cwd=tmp_path, COROBOT_DATA_DIR=data)
    assert first.returncode == again.returncode == 0, first.stderr
    assert first.stdout.strip().endswith(f"schema version {LATEST} (migrated from version 0)")
    assert again.stdout.strip().endswith(f"schema version {LATEST} (up to date)")
    backup = await asyncio.to_thread(corobot, "db", "backup", "b.sqlite3", cwd=tmp_path, COROBOT_DATA_DIR=data)
    assert backup.returncode == 0 and "integrity check ok" in backup.stdout, backup.stderr
    assert sqlite3.connect(tmp_path / "b.sqlite3").execute("PRAGMA user_version").fetchone() == (LATEST,)
    copy = await asyncio.to_thread(corobot, "db", "copy", "--to", pg_url, cwd=tmp_path, COROBOT_DATA_DIR=data)
    assert copy.returncode == 0 and "copied 0 rows" in copy.stdout and "row counts verified" in copy.stdout
    on_pg = await asyncio.to_thread(corobot, "db", "migrate", cwd=tmp_path, COROBOT_STORAGE__URL=pg_url)
    assert on_pg.returncode == 0 and "(up to date)" in on_pg.stdout, on_pg.stderr
    pg_backup = await asyncio.to_thread(corobot, "db", "backup", "x.dump", cwd=tmp_path, COROBOT_STORAGE__URL=pg_url)
    assert pg_backup.returncode == 2 and "pg_dump" in pg_backup.stderr
    assert pg_backup.stdout.startswith("pg_dump --format=custom --file x.dump ")
    bad = await asyncio.to_thread(corobot, "db", "copy", "--to", "mysql://x/y", cwd=tmp_path, COROBOT_DATA_DIR=data)
    assert bad.returncode == 2 and "postgresql://" in bad.stderr
