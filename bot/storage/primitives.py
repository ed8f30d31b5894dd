"""The four operations each SQL adapter implements (`sqlite.py`, `postgres.py`) and every query is built on.

Queries are written with `?` parameters in SQL that SQLite and PostgreSQL both accept.  `_atomic` runs
several statements, reads included, as one transaction: all of them are committed or none is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

Row = Sequence[Any]
T = TypeVar("T")


class Tx(Protocol):
    """Statements inside one open transaction."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""
        ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class SqlPrimitives(ABC):
    @abstractmethod
    async def _write(self, operation: str, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement in its own transaction."""

    @abstractmethod
    async def _write_many(self, operation: str, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one statement once per row, all in one transaction."""

    @abstractmethod
    async def _fetch(self, operation: str, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    @abstractmethod
    async def _atomic(self, operation: str, work: Callable[[Tx], Awaitable[T]]) -> T:
        """Run `work` inside one transaction (committed when it returns, rolled back when it raises)."""
