"""How an edited run differs from the original: elapsed time, output lines changed, tasks added or removed.

Pure data, worded by each front-end.  The output is compared line by line with `difflib` (a line changed
counts as one removed and one added), over at most `MAX_LINES` lines of each run so the cost stays bounded
whatever the programs printed; `truncated` says when more was printed than was compared.
"""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass

from bot.core.events import Status
from bot.core.record import RunRecord

MAX_LINES = 400


@dataclass(frozen=True, slots=True)
class RunComparison:
    elapsed_before: float
    elapsed_after: float
    status_before: Status
    status_after: Status
    lines_added: int  # stdout lines the edit printed that the original did not
    lines_removed: int  # stdout lines of the original that the edit no longer printed
    first_removed: str | None  # an example of each, for the message
    first_added: str | None
    tasks_added: tuple[tuple[str, int], ...]  # (task name, how many more), by name
    tasks_removed: tuple[tuple[str, int], ...]
    truncated: bool  # one of the runs printed more than MAX_LINES lines: only the first ones were compared

    @property
    def delta(self) -> float:
        return self.elapsed_after - self.elapsed_before

    @property
    def same_output(self) -> bool:
        return self.lines_added == 0 and self.lines_removed == 0

    @property
    def same_tasks(self) -> bool:
        return not self.tasks_added and not self.tasks_removed


def task_names(record: RunRecord) -> Counter[str]:
    return Counter(event.name for event in record.tasks if event.event == "created")


def compare_runs(original: RunRecord, edited: RunRecord) -> RunComparison:
    """Both records must be finished."""
    if original.finished is None or edited.finished is None:
        raise ValueError("compare_runs needs two finished runs")
    before, after = original.stdout(), edited.stdout()
    truncated = len(before) > MAX_LINES or len(after) > MAX_LINES
    before, after = before[:MAX_LINES], after[:MAX_LINES]
    added = removed = 0
    first_added = first_removed = None
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op in ("delete", "replace"):
            removed += i2 - i1
            first_removed = first_removed if first_removed is not None else before[i1]
        if op in ("insert", "replace"):
            added += j2 - j1
            first_added = first_added if first_added is not None else after[j1]
    old, new = task_names(original), task_names(edited)
    return RunComparison(
        elapsed_before=original.finished.elapsed,
        elapsed_after=edited.finished.elapsed,
        status_before=original.finished.status,
        status_after=edited.finished.status,
        lines_added=added,
        lines_removed=removed,
        first_removed=first_removed,
        first_added=first_added,
        tasks_added=tuple(sorted((new - old).items())),
        tasks_removed=tuple(sorted((old - new).items())),
        truncated=truncated,
    )
