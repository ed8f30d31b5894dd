"""One example on several Python versions: which versions a run goes to, and how the runs differ, as data.

A lesson marks an example as a version comparison (`compare: true`, with `versions: ["3.11", "3.12"]`); a run of
it that names no version runs it on each of its versions installed here at once (`Runner.run_versions`: admitted
together, one run of its owner's) and the front-ends show the runs side by side.  What differs is computed here,
once, for every front-end:

* `merge_lines()`: the runs' output merged into rows, each row a line printed by some of the versions (aligned
  like a diff: a line every version printed is one row); a row not printed by all is a difference.
* `lane_differences()`: the timeline lanes (tasks, by name and order) that exist on some versions only, end
  otherwise (done / cancelled / failed), or end at clearly different times.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.core.events import Event, Finished, Status, Stream
from bot.core.lessons import Example, Expect
from bot.core.record import ExampleRunner, RunHandle, RunRecord, Verdict, run_name
from bot.core.timeline import TaskSpan, task_spans
from bot.core.versions import Pythons

log = logging.getLogger(__name__)

MAX_LINES = 1000  # lines of each run that are aligned
EXACT_CELLS = 250_000  # up to this many (rows x lines), the alignment is a longest common subsequence
TIME_SLACK = 0.1  # seconds: lanes ending closer than this (or 10% of the run) end "at the same time"


class VersionsRunner(ExampleRunner, Protocol):
    """What comparing needs of `bot.core.runner.Runner`: its versions, and admitting one program on several."""

    @property
    def pythons(self) -> Pythons: ...

    def run_versions(
        self,
        code: str,
        pythons: Sequence[str],
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
    ) -> Sequence[RunHandle]: ...


def versions_for(example: Example, pythons: Pythons, requested: str | None = None) -> list[str]:
    """The versions a run of `example` goes to: each of its versions installed here for a comparison run that
    names none (when at least two are); else the one `Pythons.for_example` picks.  Raises `PythonUnavailable` /
    `ExamplePythonUnavailable`."""
    if example.compare and requested is None and example.versions:
        here, _ = pythons.installed(example.versions)
        if len(here) >= 2:
            return here
    return [pythons.for_example(example.versions, requested)]


def expect_on(example: Example, version: str | None) -> Expect | None:
    """What `example` expects on `version` (its `by_version` entry applied)."""
    return example.expect.for_version(version) if example.expect is not None else None


class RunGroup:
    """The runs of one comparison, by version: one handle to stop them all."""

    def __init__(self, runs: Mapping[str, RunHandle]) -> None:
        self.runs = dict(runs)

    def cancel(self) -> None:
        for run in self.runs.values():
            run.cancel()

    def __aiter__(self) -> AsyncIterator[Event]:
        """All the runs' events merged (a `RunHandle`); `events()` says which version each is from."""
        return self._merged()

    async def _merged(self) -> AsyncIterator[Event]:
        async for _, event in self.events():
            yield event

    async def events(self) -> AsyncIterator[tuple[str, Event]]:
        """Every run's events as they come, each with its version (each run's in order)."""
        queue: asyncio.Queue[tuple[str, Event] | None] = asyncio.Queue()

        async def pump(version: str, run: RunHandle) -> None:
            try:
                async for event in run:
                    queue.put_nowait((version, event))
            finally:
                queue.put_nowait(None)

        pumps = [asyncio.create_task(pump(v, run), name=f"compare-{v}") for v, run in self.runs.items()]
        try:
            ended = 0
            while ended < len(pumps):
                item = await queue.get()
                if item is None:
                    ended += 1
                else:
                    yield item
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)


def start_comparison(
    runner: VersionsRunner, example: Example, versions: Sequence[str], *, owner: int | None = None
) -> RunGroup:
    """Admit `example` on each of `versions`, all or none (raises `RunnerError` before anything runs)."""
    runs = runner.run_versions(example.code, versions, name=run_name(example), timeout=example.timeout, owner=owner)
    return RunGroup(dict(zip(versions, runs, strict=True)))


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the merged output: printed (at these times) by the versions in `times`."""

    stream: Stream
    text: str
    times: dict[str, float]

    @property
    def versions(self) -> list[str]:
        return list(self.times)


@dataclass(frozen=True, slots=True)
class LaneDifference:
    """A timeline lane (the `occurrence`-th task called `name`) that is not alike on every version.

    `kind`: "only" (it exists on `ends`' versions only), "outcome" (it ends otherwise: `ends` maps each version
    to done / cancelled / failed / pending), "time" (it ends at clearly different times: `ends` maps to them)."""

    name: str
    occurrence: int
    kind: str
    ends: dict[str, str | float]


@dataclass
class Comparison:
    """The runs of one example on several versions (in version order), as they come."""

    example: Example
    records: dict[str, RunRecord] = field(default_factory=dict)

    @classmethod
    def start(cls, example: Example, versions: Sequence[str]) -> Comparison:
        return cls(example, {version: RunRecord(run_name(example)) for version in versions})

    def add(self, version: str, event: Event) -> None:
        self.records[version].add(event)

    @property
    def versions(self) -> list[str]:
        return list(self.records)

    @property
    def done(self) -> bool:
        return all(record.done for record in self.records.values())

    @property
    def started(self) -> bool:
        return any(record.started for record in self.records.values())

    def verdict(self, version: str) -> Verdict:
        return self.records[version].verdict(expect_on(self.example, version))

    @property
    def ok(self) -> bool:
        """Every run ended as the lesson expects on its version."""
        return self.done and all(self.verdict(version).ok for version in self.versions)

    def overall(self) -> Finished | None:
        """The comparison as one run, once every run has finished: the first status that is not ok (in version
        order), else ok; the longest time."""
        ends = [record.finished for record in self.records.values()]
        if any(end is None for end in ends):
            return None
        done = [end for end in ends if end is not None]
        worst = next((end for end in done if end.status != Status.OK), done[0])
        return Finished(worst.status, max(end.elapsed for end in done), error=worst.error)

    def rows(self) -> list[Row]:
        return merge_lines(self.records)

    def differences(self) -> list[LaneDifference]:
        return lane_differences(self.records)

    @property
    def same_output(self) -> bool:
        rows = self.rows()
        return all(len(row.times) == len(self.records) for row in rows)


def merge_lines(records: Mapping[str, RunRecord]) -> list[Row]:
    """The runs' output lines (both streams) merged into rows, in order: each version's lines are aligned to
    the rows so far like a diff, so a line that every version printed at the same place is one row."""
    rows: list[tuple[tuple[Stream, str], dict[str, float]]] = []
    for version, record in records.items():
        lines = record.lines[:MAX_LINES]
        keys = [(line.stream, line.text) for line in lines]
        merged: list[tuple[tuple[Stream, str], dict[str, float]]] = []
        for tag, i1, i2, j1, j2 in _opcodes([key for key, _ in rows], keys):
            if tag == "equal":
                for offset in range(i2 - i1):
                    key, times = rows[i1 + offset]
                    merged.append((key, {**times, version: lines[j1 + offset].t}))
                continue
            merged.extend(rows[i1:i2])  # replaced or deleted: the others' rows stay, ours follow them
            merged.extend((keys[j], {version: lines[j].t}) for j in range(j1, j2))
        rows = merged
    return [Row(stream, text, times) for (stream, text), times in rows]


Key = tuple[Stream, str]
Opcode = tuple[Literal["replace", "delete", "insert", "equal"], int, int, int, int]


def _opcodes(a: list[Key], b: list[Key]) -> list[Opcode]:
    """difflib-style opcodes turning `a` into `b`: from a longest common subsequence when small enough (so the
    most lines are shared), else difflib's faster matcher (longest blocks first)."""
    if len(a) * len(b) > EXACT_CELLS:
        return list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
    n, m = len(a), len(b)
    length = [[0] * (m + 1) for _ in range(n + 1)]  # length[i][j]: LCS of a[i:] and b[j:]
    for i in range(n - 1, -1, -1):
        row, below = length[i], length[i + 1]
        for j in range(m - 1, -1, -1):
            row[j] = below[j + 1] + 1 if a[i] == b[j] else max(below[j], row[j + 1])
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if a[i] == b[j] and length[i][j] == length[i + 1][j + 1] + 1:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif length[i + 1][j] >= length[i][j + 1]:
            i += 1
        else:
            j += 1
    codes: list[Opcode] = []
    i = j = 0
    for pi, pj in [*pairs, (n, m)]:
        if i < pi or j < pj:
            codes.append(("replace" if i < pi and j < pj else "delete" if i < pi else "insert", i, pi, j, pj))
        if (pi, pj) != (n, m):
            codes.append(("equal", pi, pi + 1, pj, pj + 1))
        i, j = pi + 1, pj + 1
    return codes


def _lanes(record: RunRecord) -> dict[tuple[str, int], TaskSpan]:
    lanes: dict[tuple[str, int], TaskSpan] = {}
    seen: dict[str, int] = {}
    for span in task_spans(record.events):
        seen[span.name] = seen.get(span.name, 0) + 1
        lanes[span.name, seen[span.name]] = span
    return lanes


def lane_differences(records: Mapping[str, RunRecord]) -> list[LaneDifference]:
    """The lanes that are not alike on every version, in the order they first appear."""
    by_version = {version: _lanes(record) for version, record in records.items()}
    keys: list[tuple[str, int]] = []
    for lanes in by_version.values():
        keys.extend(key for key in lanes if key not in keys)
    longest = max((record.elapsed or 0.0 for record in records.values()), default=0.0)
    slack = max(TIME_SLACK, 0.1 * longest)
    out: list[LaneDifference] = []
    for name, occurrence in keys:
        spans = {v: lanes[name, occurrence] for v, lanes in by_version.items() if (name, occurrence) in lanes}
        if len(spans) < len(by_version):
            out.append(LaneDifference(name, occurrence, "only", {v: "" for v in spans}))
            continue
        outcomes = {v: span.outcome for v, span in spans.items()}
        if len(set(outcomes.values())) > 1:
            out.append(LaneDifference(name, occurrence, "outcome", dict(outcomes)))
            continue
        ends = {v: span.end for v, span in spans.items() if span.end is not None}
        if len(ends) == len(spans) and max(ends.values()) - min(ends.values()) > slack:
            out.append(LaneDifference(name, occurrence, "time", dict(ends)))
    return out


async def record_comparison(
    runner: VersionsRunner,
    example: Example,
    versions: Sequence[str],
    *,
    owner: int | None = None,
    on_start: Callable[[RunGroup], None] | None = None,
    on_event: Callable[[str, Event], None] | None = None,
) -> Comparison:
    """Run `example` on each of `versions` at once and return the comparison.  `on_start` gets the group (to stop
    it), `on_event` each event with its version.  Raises `RunnerError` when the runner refuses it."""
    group = start_comparison(runner, example, versions, owner=owner)
    if on_start is not None:
        on_start(group)
    comparison = Comparison.start(example, versions)
    async for version, event in group.events():
        comparison.add(version, event)
        if on_event is not None:
            on_event(version, event)
    return comparison
