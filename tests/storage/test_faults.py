"""SQLite under real faults: a full disk, a file made read-only while running, a file system the kernel
turns read-only, another process holding the write lock, a damaged file at start-up.

Each fault raises its `StorageError` kind naming the operation, the file and the cause; reads keep
working; writes resume once the fault clears; nothing committed before is lost (checked by reopening).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.core.errors import StorageBusy, StorageCorrupt, StorageError, StorageFull, StorageReadOnly
from bot.core.storage import AnswerRow
from bot.storage.sqlite import SqliteStorage
from tests.storage.conftest import answered
from tests.storage.mounts import NEEDS_ROOT, ext4, fill, loop_device, remount, run, tmpfs

REPO = Path(__file__).resolve().parents[2]
Opener = Callable[..., Awaitable[SqliteStorage]]


def answer(uid: int, payload: int = 16) -> AnswerRow:
    return AnswerRow("qz", "q1", uid, "x" * payload, at=1000.0 + uid)


async def committed(path: Path) -> list[int]:
    return await answered(f"sqlite:///{path}")


def assert_names(error: StorageError, path: Path, operation: str = "record an answer") -> None:
    assert error.operation == operation and error.target == str(path)
    assert str(path) in str(error) and error.cause in str(error) and error.retryable
    assert error.params == {"operation": operation, "target": str(path), "cause": error.cause}


@NEEDS_ROOT
async def test_full_disk(tmp_path: Path, caplog: pytest.LogCaptureFixture, open_sqlite: Opener) -> None:
    with tmpfs(tmp_path / "small", "1m") as folder:
        path = folder / "corobot.sqlite3"
        store = await open_sqlite(path)
        saved = list(range(20))
        for uid in saved:
            await store.record_answer(1, answer(uid))
        filler = fill(folder)
        failures: list[StorageError] = []
        uid = 100
        with caplog.at_level(logging.WARNING, logger="bot.storage"):
            while len(failures) < 3 and uid < 5000:  # the WAL may still have room for a few
                try:
                    await store.record_answer(1, answer(uid, payload=2000))
                    saved.append(uid)
                except StorageError as exc:
                    failures.append(exc)
                uid += 1
            assert failures, "the disk never filled"
            error = failures[0]
            assert isinstance(error, StorageFull) and error.message_id == "storage.full"
            assert_names(error, path)
            assert "Free space" in str(error)
            assert sorted(r.user_id for r in await store.answers("qz", "q1")) == saved  # reads go on
            filler.unlink()
            await store.record_answer(1, answer(9999))  # space is back: writes resume
            saved.append(9999)
        logged = [r.getMessage() for r in caplog.records]
        assert sum("cannot record an answer" in m for m in logged) == 1  # once, not once per failure
        assert any("works again" in m for m in logged)
        await store.close()
        assert await committed(path) == sorted(saved)


@NEEDS_ROOT
async def test_file_made_read_only_while_running(tmp_path: Path, open_sqlite: Opener) -> None:
    with ext4(tmp_path / "disk") as folder:
        path = folder / "corobot.sqlite3"
        store = await open_sqlite(path)
        for uid in range(10):
            await store.record_answer(1, answer(uid))
        files = [str(path), f"{path}-wal"]  # not -shm: it is mapped, and writes to it would fault
        run("chattr", "+i", *files)
        try:
            with pytest.raises(StorageReadOnly) as err:
                await store.record_answer(1, answer(50))
            assert_names(err.value, path)
            assert "is not writable" in err.value.cause and err.value.message_id == "storage.read_only"
            with pytest.raises(StorageReadOnly):
                await store.save_quiz("qz", 1, 2, {"n": 1})
            assert len(await store.answers("qz", "q1")) == 10  # reads go on
        finally:
            run("chattr", "-i", *files)
        await store.record_answer(1, answer(51))
        await store.close()
        assert await committed(path) == [*range(10), 51]


@NEEDS_ROOT
async def test_file_system_forced_read_only_by_the_kernel(tmp_path: Path, open_sqlite: Opener) -> None:
    """ext4 with errors=remount-ro after a disk error: every commit made before it must still be there."""
    with ext4(tmp_path / "disk", options="errors=remount-ro") as folder:
        path = folder / "corobot.sqlite3"
        store = await open_sqlite(path)
        for uid in range(30):
            await store.record_answer(1, answer(uid))
        (Path("/sys/fs/ext4") / loop_device(folder) / "trigger_fs_error").write_text("corobot test\n")
        with pytest.raises(StorageReadOnly) as err:
            await store.record_answer(1, answer(99))
        assert_names(err.value, path)
        assert "refuses writes: Read-only file system" in err.value.cause
        assert len(await store.answers("qz", "q1")) == 30  # reads go on
        await store.close()  # the operator stops corobot, checks the disk, mounts it again
        remount(folder)
        assert await committed(path) == list(range(30))


@pytest.mark.timeout(60)
async def test_locked_by_another_process(tmp_path: Path, open_sqlite: Opener) -> None:
    path = tmp_path / "corobot.sqlite3"
    store = await open_sqlite(path, busy_timeout=0.5)
    await store.record_answer(1, answer(1))
    locker = await asyncio.create_subprocess_exec(
        sys.executable, "-c",
        "import sqlite3, sys\n"
        "con = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "con.execute('BEGIN EXCLUSIVE')\n"
        "con.execute(\"INSERT INTO answers (quiz_id, question_id, user_id, guild_id, answer, at) "
        "VALUES ('qz', 'q1', 2, 1, '\\\"other\\\"', 1.0)\")\n"
        "print('locked', flush=True)\n"
        "sys.stdin.readline()\n"
        "con.execute('COMMIT')\n",
        str(path), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert locker.stdout is not None and locker.stdin is not None
    try:
        assert await asyncio.wait_for(locker.stdout.readline(), 30) == b"locked\n"
        started = asyncio.get_running_loop().time()
        with pytest.raises(StorageBusy) as err:
            await store.record_answer(1, answer(3))
        waited = asyncio.get_running_loop().time() - started
        assert 0.4 < waited < 10  # the busy timeout (0.5 s), then a clear error
        assert_names(err.value, path)
        assert "locked" in err.value.cause and err.value.message_id == "storage.busy"
        assert [r.user_id for r in await store.answers("qz", "q1")] == [1]  # reads go on meanwhile
    finally:
        locker.stdin.write(b"go\n")
        await locker.stdin.drain()
        assert await asyncio.wait_for(locker.wait(), 30) == 0
    await store.record_answer(1, answer(3))  # the lock is gone: writes resume
    await store.close()
    assert await committed(path) == [1, 2, 3]


async def test_garbage_in_place_of_the_database(tmp_path: Path) -> None:
    path = tmp_path / "corobot.sqlite3"
    junk = b"this is not a database" * 100
    path.write_bytes(junk)
    with pytest.raises(StorageCorrupt) as err:
        await SqliteStorage(path).open()
    assert str(path) in str(err.value) and "restore the latest backup" in str(err.value)
    assert path.read_bytes() == junk


async def damaged_database(tmp_path: Path) -> tuple[Path, bytes]:
    """A real corobot database with one of its table pages overwritten by garbage."""
    path = tmp_path / "data" / "corobot.sqlite3"
    store = SqliteStorage(path)
    await store.open()
    try:
        for uid in range(400):
            await store.record_answer(1, answer(uid, payload=200))
        await store.fetch("PRAGMA wal_checkpoint(TRUNCATE)")
        [(page_size,)] = await store.fetch("PRAGMA page_size")
        [(root,)] = await store.fetch("SELECT rootpage FROM sqlite_master WHERE name = 'answers'")
    finally:
        await store.close()
    data = bytearray(path.read_bytes())
    offset = (int(root) - 1) * int(page_size)
    data[offset : offset + 64] = b"\xde\xad\xbe\xef" * 16
    path.write_bytes(bytes(data))
    return path, bytes(data)


async def test_damaged_pages_at_start_up(tmp_path: Path) -> None:
    path, data = await damaged_database(tmp_path)
    with pytest.raises(StorageCorrupt) as err:
        await SqliteStorage(path).open()
    assert str(path) in str(err.value) and "restore the latest backup" in str(err.value)
    assert err.value.message_id == "storage.corrupt" and not err.value.retryable
    assert path.read_bytes() == data  # left untouched


async def test_damaged_file_stops_the_command_with_exit_2(tmp_path: Path) -> None:
    path, data = await damaged_database(tmp_path)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("COROBOT_")}
    environ.update(PYTHONPATH=str(REPO), COROBOT_DATA_DIR=str(path.parent))
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "bot", "db", "migrate"], cwd=tmp_path, capture_output=True,
        text=True, timeout=60, env=environ, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("corobot:")]
    assert str(path) in line and "restore the latest backup" in line and "Traceback" not in done.stderr
    assert path.read_bytes() == data
