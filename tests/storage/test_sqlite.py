"""What only SQLite has: WAL mode and durable commits, a file in a folder that may be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.errors import StorageError, StorageReadOnly
from bot.storage.sqlite import SqliteStorage
from tests.storage.mounts import NEEDS_ROOT, run, tmpfs


async def test_wal_and_full_synchronous(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "data" / "corobot.sqlite3")
    await store.open()
    try:
        assert await store.fetch("PRAGMA journal_mode") == [("wal",)]
        assert await store.fetch("PRAGMA synchronous") == [(2,)]  # FULL
    finally:
        await store.close()


async def test_directory_in_place_of_the_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "corobot.sqlite3"
    path.mkdir()
    with pytest.raises(StorageError) as err:
        await SqliteStorage(path).open()
    assert str(path) in str(err.value) and "data folder is writable" in str(err.value)


@NEEDS_ROOT
async def test_a_data_folder_on_a_read_only_file_system(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "1m") as folder:
        run("mount", "-o", "remount,ro", str(folder))
        with pytest.raises(StorageReadOnly) as err:
            await SqliteStorage(folder / "data" / "db.sqlite3").open()
    assert "db.sqlite3" in str(err.value) and "Read-only file system" in err.value.cause
