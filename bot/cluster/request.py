"""A run request on the wire (the `{P}:runs` stream): everything a node needs, the code included, so runner nodes
need no lessons folder.  Fields are strings; `parse` checks each one (a node trusts no request blindly).

    v        wire version ("1")
    run      run id (an integer unique across bot processes)
    code     the program
    name     its file name (tracebacks say `File "two-tasks.py"`)
    timeout  seconds (the node caps it at its own timeout_max)
    owner    the member's id, or "" (quizzes, `lessons check`)
    reply    the bot process's inbox stream, where the run's events go
    opts     JSON object of further run options, strings only: `python` (a version), `stdin` (what the program
             reads on its standard input); a node refuses options its runner does not take
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.cluster.keys import Keys

VERSION = "1"
MAX_CODE = 1024 * 1024  # characters of a program
MAX_OPTIONS = 16
MAX_OPTION = 200  # characters of an option's name or value
MAX_STDIN = 1024 * 1024  # characters of the `stdin` option (the program's standard input; the node's limit applies)
NAME = re.compile(r"[\w.-]{1,100}", re.ASCII)


class BadRequest(ValueError):
    """A request a node cannot run (malformed, too large, or from a newer version)."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    run_id: int
    code: str
    name: str
    timeout: float
    owner: int | None
    reply: str
    options: dict[str, str] = field(default_factory=dict)

    def fields(self) -> list[str]:
        """name, value, name, value, ... (what XADD takes)."""
        owner = "" if self.owner is None else str(self.owner)
        opts = json.dumps(self.options, ensure_ascii=False, sort_keys=True)
        pairs = {
            "v": VERSION,
            "run": str(self.run_id),
            "code": self.code,
            "name": self.name,
            "timeout": repr(self.timeout),
            "owner": owner,
            "reply": self.reply,
            "opts": opts,
        }
        return [part for pair in pairs.items() for part in pair]

    @classmethod
    def parse(cls, data: Mapping[str, str], keys: Keys) -> RunRequest:
        """The request in a stream entry's fields; raises BadRequest naming what is wrong."""
        if data.get("v") != VERSION:
            raise BadRequest(f"wire version {data.get('v')!r:.20}, this node reads {VERSION}")
        run_id = _integer(data.get("run"), "run")
        if run_id is None or run_id < 0:
            raise BadRequest("no run id")
        code = data.get("code")
        if not isinstance(code, str) or not code or len(code) > MAX_CODE:
            raise BadRequest(f"the code must be 1 to {MAX_CODE} characters")
        name = data.get("name", "")
        if not NAME.fullmatch(name):
            raise BadRequest(f"bad file name {name!r:.40}")
        try:
            timeout = float(data.get("timeout", ""))
        except ValueError:
            raise BadRequest("bad timeout") from None
        if not math.isfinite(timeout) or timeout <= 0:
            raise BadRequest("bad timeout")
        owner = _integer(data.get("owner"), "owner") if data.get("owner") else None
        reply = data.get("reply", "")
        if not keys.owns(reply):
            raise BadRequest(f"reply {reply!r:.60} is not an inbox of this deployment")
        return cls(run_id, code, name, timeout, owner, reply, _options(data.get("opts", "{}")))


def _integer(value: str | None, what: str) -> int | None:
    if value is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,19}", value):
        raise BadRequest(f"bad {what} {value!r:.30}")
    return int(value)


def _options(raw: str) -> dict[str, str]:
    try:
        options = json.loads(raw) if len(raw) <= MAX_OPTIONS * MAX_OPTION * 3 + MAX_STDIN * 6 else None
    except ValueError:
        options = None
    if not isinstance(options, dict) or len(options) > MAX_OPTIONS:
        raise BadRequest("opts must be a small JSON object")
    for key, value in options.items():
        limit = MAX_STDIN if key == "stdin" else MAX_OPTION
        if not isinstance(value, str) or len(key) > MAX_OPTION or len(value) > limit:
            raise BadRequest(f"option {key!r:.40} must be a string of at most {limit} characters")
    return options
