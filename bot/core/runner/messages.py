"""Reading what a run's processes write, trusting none of it: bounded line buffers and typed field checks.

Everything here runs in the bot's event loop, so every function costs O(bytes received), whatever the
program sends: a line without a newline is kept as a list of chunks (never re-copied per read), and a
field of the wrong type or an impossible value is dropped, not converted.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_NAME = 200  # characters of a task name
MAX_ERROR = 2_000  # characters of an exception line
MAX_TRACEBACK = 20_000  # characters of a traceback
_SURROGATES = re.compile("[\ud800-\udfff]")


class LineBuffer:
    """Splits a byte stream into lines; holds at most `max_line` bytes of an unfinished line."""

    def __init__(self, max_line: int) -> None:
        self.max_line = max_line
        self._parts: list[bytes] = []
        self._size = 0

    @property
    def pending(self) -> int:
        return self._size

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            piece = data[start:end]
            if self._parts:
                self._parts.append(piece)
                piece = self.take()
            lines.append(piece)
            start = end + 1
        if start < len(data):
            rest = data[start:]
            self._parts.append(rest)
            self._size += len(rest)
        return lines

    @property
    def overflowing(self) -> bool:
        return self._size > self.max_line

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts = []
        self._size = 0
        return data


def clean_text(value: str, limit: int | None = None) -> str:
    """Valid Unicode (a lone surrogate becomes U+FFFD, so every front-end can encode it), clipped."""
    if limit is not None and len(value) > limit:
        value = value[: limit - 1] + "…"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATES.sub("\ufffd", value)
    return value


def number(value: Any) -> float | None:
    """A finite int or float (not a bool), else None."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int:
        return float(value) if abs(value) < 2**53 else None
    return None


def integer(value: Any, low: int = -(2**31), high: int = 2**31) -> int | None:
    if type(value) is int and low <= value <= high:
        return value
    return None


def text(value: Any, limit: int | None) -> str | None:
    return clean_text(value, limit) if isinstance(value, str) else None


def optional_line(value: Any) -> int | None:
    """A program line number, or None (anything else is dropped)."""
    return integer(value, 1, 10**7)
