"""Text that cannot leave its Discord code span or code block (a leaf module: no discord import).

One escaping rule for everything a program or a member wrote (output lines, exception texts, tracebacks,
answers): `code_safe` strips terminal escapes and control characters and breaks every run of backticks
with a zero-width space, so nothing can close a ``` block; `inline_code` also turns newlines and
backticks into look-alikes, because a single backtick or a line break already ends an inline span.
"""

from __future__ import annotations

import re

from bot.core.runner.text import strip_control

ZWSP = "\u200b"
GRAVE = "\u02cb"  # ˋ: looks like a backtick, ends nothing
NEWLINE = " \u21b5 "  # ↵
_BACKTICKS = re.compile(r"`(?=`)")

__all__ = ["ZWSP", "clip", "code_block", "code_safe", "inline_code", "strip_ansi"]


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences and control characters (tabs and newlines are kept)."""
    return strip_control(text)


def code_safe(text: str) -> str:
    """Text that can sit inside a ``` code block without ending it (and without terminal escapes)."""
    return _BACKTICKS.sub("`" + ZWSP, strip_control(text))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def inline_code(text: str, limit: int = 300) -> str:
    """A whole inline code span (`like this`) showing `text` on one line, clipped to `limit` characters."""
    body = strip_control(text).replace("\r", "").replace("\n", NEWLINE).replace("`", GRAVE)
    return f"`{clip(body, limit) or ' '}`"


def code_block(body: str, lang: str = "") -> str:
    """A ``` block around `body`, which must already be `code_safe`."""
    return f"```{lang}\n{body}\n```"
