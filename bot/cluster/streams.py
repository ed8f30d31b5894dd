"""Reading redis-py's stream replies, whichever protocol (RESP2 list, RESP3 dict) the server speaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def entries(reply: Any) -> Iterator[tuple[str, dict[str, str]]]:
    """(entry id, fields) of an XREAD / XREADGROUP reply, in order; deleted entries (no fields) are skipped."""
    if not reply:
        return
    streams = reply.items() if isinstance(reply, dict) else reply
    for _name, found in streams:
        batches = found if found and isinstance(found[0], list) else [found]  # RESP3 wraps the list once more
        for batch in batches:
            for entry_id, fields in batch or []:
                if entry_id is not None and fields is not None:
                    yield str(entry_id), fields
