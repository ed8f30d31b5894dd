"""A program's exception as text, keeping only its own frames (stdlib only; the harness in `child.py` uses it)."""

from __future__ import annotations

import collections
import traceback
import types

TRACEBACK_ENDS = 12  # frames kept from each end of a very deep traceback (deep recursion)


def frames(tb: types.TracebackType | None) -> tuple[list[traceback.FrameSummary], list[traceback.FrameSummary], int]:
    """The first and last TRACEBACK_ENDS frames and how many lie between, in O(1) memory: a deep recursion's
    traceback has a frame per level, and formatting them all can itself run out of memory."""
    head: list[types.TracebackType] = []
    tail: collections.deque[types.TracebackType] = collections.deque(maxlen=TRACEBACK_ENDS)
    total = 0
    while tb is not None:
        total += 1
        if len(head) < TRACEBACK_ENDS:
            head.append(tb)
        else:
            tail.append(tb)
        tb = tb.tb_next

    def summary(entry: types.TracebackType) -> traceback.FrameSummary:
        code = entry.tb_frame.f_code
        return traceback.FrameSummary(code.co_filename, entry.tb_lineno, code.co_name)

    return [summary(e) for e in head], [summary(e) for e in tail], total - len(head) - len(tail)


def format_error(exc: BaseException, name: str) -> tuple[str, str]:
    """('Type: message', traceback text) keeping only the program's frames (and where it was raised)."""
    error = traceback.format_exception_only(type(exc), exc)[-1].strip()
    if isinstance(exc, SyntaxError):
        body = "".join(traceback.format_exception_only(type(exc), exc))
        return error, body
    head, tail, skipped = frames(exc.__traceback__)
    last = (tail or head)[-1:]
    head = [f for f in head if f.filename == name]
    tail = [f for f in tail if f.filename == name]
    if last and last[0].filename != name:  # where it was raised, even outside the program
        (tail if skipped or tail else head).append(last[0])
    lines = traceback.format_list(head)
    if skipped:
        lines.append(f"  ... {skipped} more frames ...\n")
    lines += traceback.format_list(tail)
    text = "Traceback (most recent call last):\n" + "".join(lines)
    text += "".join(traceback.format_exception_only(type(exc), exc))
    return error, text
