"""What went wrong, in the operator's words: a database driver's exception becomes a `StorageError` subclass
that names the operation, the file (or server) and the cause.

SQLite reports an unwritable file as a plain I/O error (`SQLITE_IOERR_WRITE`, no errno), so for I/O errors
the file system is asked why: mounted read-only, the file not writable (e.g. `chattr +i`), or no space left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bot.core.errors import (
    StorageBusy,
    StorageConflict,
    StorageCorrupt,
    StorageError,
    StorageFull,
    StorageReadOnly,
)


class SqliteConflict(StorageConflict, sqlite3.IntegrityError):
    """A `StorageConflict` that is also a `sqlite3.IntegrityError`: bot/discord_app/studies.py still catches
    the latter; drop this class once it catches `StorageConflict` (which PostgreSQL raises too)."""


# --- SQLite ---------------------------------------------------------------------------------------------

_SQLITE_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_SQLITE_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def _primary(code: int) -> int:
    return code & 0xFF  # extended result codes keep the primary code in the low byte


def _filesystem_cause(path: Path) -> tuple[type[StorageError], str] | None:
    """Why a file cannot be written, as the file system sees it (None: no visible reason).  Last, it tries
    to write a small file beside it: a file system the kernel forced read-only after a disk error shows
    nothing in its mount flags (ext4's emergency_ro) but refuses that with EROFS."""
    folder = path.parent if path.parent.exists() else Path(".")
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    if stats.f_flag & os.ST_RDONLY:
        return StorageReadOnly, f"the file system holding {folder} is mounted read-only"
    for candidate in (path, Path(f"{path}-wal"), folder):
        if candidate.exists() and not os.access(candidate, os.W_OK):
            return StorageReadOnly, f"{candidate} is not writable"
    probe = folder / f".corobot-probe-{os.getpid()}"
    try:
        with open(probe, "wb") as f:
            f.write(b"probe")
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            return StorageFull, f"no space left on the file system holding {folder}"
        if exc.errno in (errno.EROFS, errno.EPERM, errno.EACCES):
            return StorageReadOnly, f"the file system holding {folder} refuses writes: {exc.strerror}"
        return StorageError, f"the file system holding {folder} fails writes: {exc.strerror}"
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    if stats.f_bavail * stats.f_frsize < 64 * 1024:
        return StorageFull, f"no space left on the file system holding {folder}"
    return None


def sqlite_fault(exc: BaseException, operation: str, path: Path) -> StorageError:
    """The `StorageError` for an exception raised by sqlite3/aiosqlite (or the OS) while doing `operation`."""
    target = str(path)
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return StorageFull(operation, target, "no space left on the device")
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StorageReadOnly(operation, target, exc.strerror or str(exc))
        return StorageError(operation, target, f"{exc.strerror or exc}", "Check the data folder")
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", type(exc).__name__)
    cause = f"{exc} ({name})"
    if isinstance(exc, sqlite3.IntegrityError):
        return SqliteConflict(operation, target, cause)
    if code is None:
        return StorageError(operation, target, cause)
    primary = _primary(code)
    if primary == sqlite3.SQLITE_FULL:
        return StorageFull(operation, target, cause)
    if primary == sqlite3.SQLITE_READONLY:
        return StorageReadOnly(operation, target, cause)
    if primary in _SQLITE_BUSY:
        return StorageBusy(operation, target, cause)
    if primary in _SQLITE_CORRUPT:
        return StorageCorrupt(operation, target, cause)
    if primary in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM):
        found = _filesystem_cause(path)
        if found is not None:
            kind, why = found
            return kind(operation, target, f"{why} ({name})")
        return StorageError(operation, target, cause, "Check the disk and the data folder; nothing committed is lost")
    return StorageError(operation, target, cause)


# --- PostgreSQL -----------------------------------------------------------------------------------------


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
