"""Text that is safe in a Discord message: it cannot leave its code span or code block, and fits the limits.

One escaping rule for everything a program or a member wrote (output lines, exception texts, tracebacks,
answers, filters typed into a command): `strip_control` (the core's, shared with the console) removes terminal
escape sequences, control characters and bidi overrides; `code_safe` also breaks every run of backticks with a
zero-width space, so nothing can close the ``` block it sits in; `inline_code` makes a whole inline span and
turns newlines and backticks into look-alikes, because a single backtick or a line break already ends one.
Pings are prevented separately: every message goes out with `AllowedMentions.none()`.  A leaf of the front-end:
no discord import.
"""

from __future__ import annotations

import re

from bot.core.runner.text import strip_control

MESSAGE_LIMIT = 2000  # characters of a message's content
ZWSP = "\u200b"
GRAVE = "\u02cb"  # ˋ: looks like a backtick, ends nothing
NEWLINE = " \u21b5 "  # ↵
_BACKTICKS = re.compile(r"`(?=`)")

__all__ = ["MESSAGE_LIMIT", "ZWSP", "clip", "code_block", "code_safe", "inline_code", "strip_control"]


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
