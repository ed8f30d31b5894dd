"""Where a learner's code comes from, and what is accepted: the first Python block of a message, or the text of
a form; bounded in size; named by a hash for the moderation log (the code itself is never logged).

Discord messages carry code in fenced blocks (```` ```py ````).  `code_from_message` takes the first block
tagged `py`, `python` or `python3`; failing that the first untagged block, and failing that the whole text
(with surrounding backticks removed) — those two are accepted with a note, so the learner knows what ran.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from bot.core.errors import CorobotError

Origin = Literal["python_block", "plain_block", "plain_text"]

_BLOCK = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)
PYTHON_TAGS = frozenset({"py", "python", "python3", "py3"})


class NoCode(CorobotError):
    def __init__(self) -> None:
        super().__init__(message_id="playground.no_code")


class CodeTooLarge(CorobotError):
    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(message_id="playground.code_too_large", params={"size": size, "limit": limit})


@dataclass(frozen=True, slots=True)
class Source:
    code: str
    origin: Origin = "python_block"  # a form's text counts as a Python block: nothing to note

    @property
    def noted(self) -> bool:
        """True when the code was not in a ```py block: say so with the result."""
        return self.origin != "python_block"


def code_from_message(text: str) -> Source:
    """The code to run from a message's text; raises `NoCode` when there is none."""
    blocks = [(tag.lower(), body) for tag, body in _BLOCK.findall(text)]
    for tag, body in blocks:
        if tag in PYTHON_TAGS and body.strip():
            return Source(body, "python_block")
    for tag, body in blocks:
        if not tag and body.strip():
            return Source(body, "plain_block")
    if blocks:  # code blocks, but none with Python in it
        raise NoCode()
    plain = text.strip()
    if plain.startswith("`") and plain.endswith("`"):
        plain = plain.strip("`").strip()
    if not plain:
        raise NoCode()
    return Source(plain + "\n", "plain_text")


def checked(code: str, limit: int) -> str:
    """`code` if it has something to run and at most `limit` characters; raises `NoCode` / `CodeTooLarge`."""
    if not code.strip():
        raise NoCode()
    if len(code) > limit:
        raise CodeTooLarge(len(code), limit)
    return code


def code_hash(code: str) -> str:
    """The SHA-256 of the code (UTF-8): what the moderation log keeps instead of the code."""
    return hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest()
