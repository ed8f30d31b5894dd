"""Removing one member from a saved quiz or study-session state (JSON), for /forget-me."""

from __future__ import annotations

from typing import Any


def _is(value: Any, user_id: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value == user_id


def scrub_member(value: Any, user_id: int) -> Any:
    """A copy of `value` without `user_id`: mapping entries keyed by it (scores, hints: `{"123": 10}`), list
    entries that are it or rows that start with it (members, submissions: `[123, answer, at, changes]`), and a
    field that holds it (an owner, a host) set to 0, nobody."""
    if isinstance(value, dict):
        return {key: scrub_member(item, user_id) for key, item in value.items() if key != str(user_id)}
    if isinstance(value, list):
        return [
            scrub_member(item, user_id)
            for item in value
            if not _is(item, user_id) and not (isinstance(item, list) and item and _is(item[0], user_id))
        ]
    return 0 if _is(value, user_id) else value
