"""Text that is safe in a Discord message: escape sequences removed, code blocks that cannot be closed, limits.

Safety rules for everything a program printed or a member typed: ANSI escape sequences and control characters
are removed, and runs of backticks are broken with a zero-width space so the text can never close the code
block (or inline code) it sits in.  Pings are prevented separately: every message goes out with
`AllowedMentions.none()`.  A leaf: it imports nothing of corobot.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 2000  # characters of a message's content
ZWSP = "\u200b"

_ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC strings
    r"|[@-Z\\-_]?)"  # two-character sequences (or a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_BACKTICKS = re.compile(r"`(?=`)")


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences and control characters (tabs are kept)."""
    return _CONTROL.sub("", _ANSI.sub("", text))


def code_safe(text: str) -> str:
    """Text that can sit inside a ``` code block without ending it (and without terminal escapes)."""
    return _BACKTICKS.sub("`" + ZWSP, strip_ansi(text))


def inline_safe(text: str) -> str:
    """Text that can sit inside `inline code` without ending it: one line, no backtick, no escapes."""
    return strip_ansi(text).replace("`", "ˋ").replace("\n", " ")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def code_block(body: str, lang: str = "") -> str:
    return f"```{lang}\n{body}\n```"
