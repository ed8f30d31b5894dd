"""Which database: `storage.url` in the config.

    sqlite:///data/corobot.sqlite3          a file, relative to the working directory (three slashes)
    sqlite:////var/lib/corobot/db.sqlite3   an absolute path (four slashes)
    postgresql://user:password@host:5432/corobot   (also postgres://; asyncpg's URL syntax)

Unset, it is the SQLite file `corobot.sqlite3` in `data_dir`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.core.errors import ConfigError
from bot.storage.sql import SqlStorage
from bot.storage.sqlite import SqliteStorage

DATABASE_NAME = "corobot.sqlite3"
SCHEMES = ("sqlite", "postgresql", "postgres")


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DATABASE_NAME}"


def scheme(url: str) -> str:
    """`sqlite` or `postgresql`; raises ConfigError for anything else."""
    found = urlsplit(url).scheme.lower()
    if found not in SCHEMES:
        raise ConfigError(f"storage.url: unsupported database {found or url!r}: use sqlite:///PATH or postgresql://…")
    return "postgresql" if found == "postgres" else found


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///PATH` URL (relative after three slashes, absolute after four)."""
    parts = urlsplit(url)
    if parts.netloc or not parts.path.startswith("/") or len(parts.path) < 2:
        raise ConfigError(f"storage.url: {url!r} names no file: write sqlite:///relative/path or sqlite:////abs/path")
    return Path(unquote(parts.path[1:]))


def storage_for(url: str, *, busy_timeout: float = 5.0) -> SqlStorage:
    """An unopened storage for `url`; raises ConfigError for a URL it cannot use."""
    if scheme(url) == "sqlite":
        return SqliteStorage(sqlite_path(url), busy_timeout=busy_timeout)
    from bot.storage.postgres import PostgresStorage  # asyncpg only when PostgreSQL is configured

    return PostgresStorage(url, busy_timeout=busy_timeout)
