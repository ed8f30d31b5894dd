"""Program text made safe to show: terminal escape sequences and control characters removed.

Used by every front-end for what a program printed or raised (the console here; Discord through
`bot.discord_app.markdown`, which adds the code-span and code-block rules).  Tabs and newlines are kept.
"""

from __future__ import annotations

import re

_ANSI = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC strings
    r"|[@-Z\\-_]?)"  # two-character sequences (or a lone ESC)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def strip_control(text: str) -> str:
    """Remove ANSI/OSC escape sequences, control characters and bidi overrides (tabs and newlines stay)."""
    return _CONTROL.sub("", _ANSI.sub("", text))
