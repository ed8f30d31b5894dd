"""The lesson catalog: every `*.yaml` / `*.yml` under a folder, one lesson per file, hot-reloadable.

A broken file never stops the others from loading; every problem is a `LessonError` whose `str()` is
`path:line:col: reason`.  `refresh()` re-reads only files whose (mtime_ns, size) changed, plus added and
removed ones; a file that becomes invalid keeps its last good lesson loaded while its error is reported.
Cross-file rules (unique lesson ids, known prerequisites, no prerequisite cycles) are re-checked after
every pass, so fixing one file can bring another one back.
"""

from __future__ import annotations

import asyncio
import difflib
import heapq
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from bot.core.errors import LessonError, UnknownExample, UnknownLesson
from bot.core.lessons import Example, Lesson
from bot.core.yamlsource import Locator, describe_validation_error, load_yaml

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")
Stamp = tuple[int, int]  # (st_mtime_ns, st_size)


@dataclass(slots=True)
class LoadReport:
    loaded: list[str] = field(default_factory=list)  # lesson ids (re)loaded in this pass
    removed: list[str] = field(default_factory=list)  # lesson ids gone with their file (or their id)
    errors: list[LessonError] = field(default_factory=list)  # each str() is "path:line:col: reason"
    kept: list[str] = field(default_factory=list)  # ids whose file is now invalid: last good version stays

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return bool(self.loaded or self.removed or self.errors or self.kept)

    def describe(self) -> str:
        """One line for a log, e.g. `loaded 2 (a, b); removed 1 (c); 1 error`."""
        parts = []
        if self.loaded:
            parts.append(f"loaded {len(self.loaded)} ({', '.join(self.loaded)})")
        if self.removed:
            parts.append(f"removed {len(self.removed)} ({', '.join(self.removed)})")
        if self.kept:
            parts.append(f"kept the last good version of {', '.join(self.kept)}")
        if self.errors:
            parts.append(f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}")
        return "; ".join(parts) or "no change"


@dataclass(slots=True)
class _Parsed:
    """One file read and validated (pure; may be produced in a worker thread)."""

    stamp: Stamp
    lesson: Lesson | None
    locator: Locator | None
    errors: list[LessonError]


@dataclass(slots=True)
class _Entry:
    path: Path
    stamp: Stamp
    lesson: Lesson | None = None  # the last version that validated
    locator: Locator | None = None  # positions for `lesson`
    errors: list[LessonError] = field(default_factory=list)  # problems of the file's current contents
    # A newer valid version that renamed the lesson to an id another file holds: `lesson` (the version in
    # use) stays until that id is free.
    pending: tuple[Lesson, Locator] | None = None


def parse_lesson_file(path: Path) -> tuple[Lesson | None, Locator | None, list[LessonError]]:
    """Read and validate one file: (lesson, its locator, errors).  Never raises for a bad file."""
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, None, [LessonError(shown, None, None, f"cannot read the file: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return None, None, [LessonError(shown, line, column, "the file is not UTF-8 text; save it as UTF-8")]
    try:
        data, locator = load_yaml(text, shown)
    except LessonError as exc:
        return None, None, [exc]
    if data is None:
        message = "the file is empty; a lesson is a mapping with at least `id`, `title` and `examples`"
        return None, locator, [LessonError(shown, 1, 1, message)]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r:.40})"
        message = f"a lesson file must be a mapping (`id: ...`, `title: ...`, `examples: ...`), not {kind}"
        return None, locator, [locator.error((), message)]
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as exc:
        return None, locator, describe_validation_error(exc, locator, Lesson)
    return lesson, locator, []


class Catalog:
    """Lessons under `root`, keyed by id; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._entries: dict[Path, _Entry] = {}
        self._active: dict[str, _Entry] = {}
        self._order: list[Lesson] = []
        self._link_errors: list[LessonError] = []

    # --- loading ------------------------------------------------------------------------------------

    def load(self) -> LoadReport:
        """Scan `root` recursively and (re)load every lesson file; reports every error."""
        scan, parsed = self._prepare({})
        return self._apply(scan, parsed, full=True)

    def refresh(self) -> LoadReport:
        """Reload changed, added and removed files only; reports what changed and new errors."""
        scan, parsed = self._prepare(self._stamps())
        return self._apply(scan, parsed, full=False)

    async def watch(self, interval: float = 1.0, on_change: Callable[[LoadReport], None] | None = None) -> None:
        """Poll for changes every `interval` seconds until cancelled; log and report each change."""
        log.info("watching %s for lesson changes every %.1fs", self.root, interval)
        while True:
            await asyncio.sleep(interval)
            try:
                scan, parsed = await asyncio.to_thread(self._prepare, self._stamps())
                report = self._apply(scan, parsed, full=False)
            except Exception:
                log.exception("reloading lessons from %s failed", self.root)
                continue
            if not report.changed:
                continue
            log.info("lessons changed: %s", report.describe())
            for error in report.errors:
                log.warning("%s", error)
            if on_change is not None:
                try:
                    on_change(report)
                except Exception:
                    log.exception("lesson change callback failed")

    def _stamps(self) -> dict[Path, Stamp]:
        return {path: entry.stamp for path, entry in self._entries.items()}

    def _scan(self) -> dict[Path, Stamp]:
        found: dict[Path, Stamp] = {}
        if not self.root.is_dir():
            return found
        for path in sorted(self.root.rglob("*")):
            relative = path.relative_to(self.root)
            if path.suffix not in SUFFIXES or any(part.startswith(".") for part in relative.parts):
                continue
            try:
                info = path.stat()
            except OSError:
                continue  # vanished while scanning
            if path.is_file():
                found[path] = (info.st_mtime_ns, info.st_size)
        return found

    def _prepare(self, known: Mapping[Path, Stamp]) -> tuple[dict[Path, Stamp], dict[Path, _Parsed]]:
        """Scan and parse the files whose stamp differs from `known` (all of them when empty).  No state."""
        scan = self._scan()
        parsed: dict[Path, _Parsed] = {}
        for path, stamp in scan.items():
            if known.get(path) != stamp:
                lesson, locator, errors = parse_lesson_file(path)
                parsed[path] = _Parsed(stamp, lesson, locator, errors)
        return scan, parsed

    def _apply(self, scan: dict[Path, Stamp], parsed: dict[Path, _Parsed], *, full: bool) -> LoadReport:
        before = {lesson_id: entry.lesson for lesson_id, entry in self._active.items()}
        old_links = {str(e) for e in self._link_errors}
        report = LoadReport()
        if not self.root.is_dir():
            report.errors.append(LessonError(str(self.root), None, None, "the lessons folder does not exist"))
        for path in [p for p in self._entries if p not in scan]:
            log.debug("lesson file removed: %s", path)
            del self._entries[path]
        for path, item in parsed.items():
            entry = self._entries.get(path)
            if entry is not None and entry.stamp == item.stamp and not full:
                continue  # already applied (a refresh ran while this one was parsing)
            if entry is None:
                entry = self._entries[path] = _Entry(path, item.stamp)
            entry.stamp = item.stamp
            entry.errors = item.errors
            report.errors.extend(item.errors)
            entry.pending = None
            if item.lesson is not None and item.locator is not None:
                in_use = entry.lesson is not None and self._active.get(entry.lesson.id) is entry
                if in_use and entry.lesson is not None and item.lesson.id != entry.lesson.id:
                    entry.pending = (item.lesson, item.locator)  # `_resolve` decides whether the new id is free
                else:
                    entry.lesson, entry.locator = item.lesson, item.locator
            elif entry.lesson is not None and self._active.get(entry.lesson.id) is entry:
                report.kept.append(entry.lesson.id)
                log.warning("%s is invalid; keeping its last good version of %r", path, entry.lesson.id)
        self._resolve()
        for entry in self._entries.values():
            if entry.pending is not None and entry.path in parsed and entry.lesson is not None:
                report.kept.append(entry.lesson.id)
                log.warning("%s renames its lesson to an id in use; keeping %r", entry.path, entry.lesson.id)
        for lesson_id, entry in self._active.items():
            if before.get(lesson_id) is not entry.lesson:
                report.loaded.append(lesson_id)
        report.removed = [lesson_id for lesson_id in before if lesson_id not in self._active]
        reread = {str(path) for path in parsed}  # an author who saves a file sees its cross-file errors again
        report.errors.extend(e for e in self._link_errors if full or e.path in reread or str(e) not in old_links)
        return report

    def _resolve(self) -> None:
        """Pick the file that owns each id, check prerequisites, and order the lessons."""
        owners = {lesson_id: entry.path for lesson_id, entry in self._active.items()}
        errors = self._rename_pending()
        candidates = [e for e in self._entries.values() if e.lesson is not None and e.locator is not None]
        # the file that already owns an id keeps it; otherwise the first by path wins
        candidates.sort(key=lambda e: (owners.get(e.lesson.id if e.lesson else "") != e.path, e.path))
        active: dict[str, _Entry] = {}
        for entry in candidates:
            assert entry.lesson is not None and entry.locator is not None
            lesson_id = entry.lesson.id
            if lesson_id in active:
                other = active[lesson_id]
                line = other.locator.locate(("id",))[0] if other.locator else None
                errors.append(
                    entry.locator.error(
                        ("id",),
                        f"duplicate lesson id {lesson_id!r}: {other.path}{f':{line}' if line else ''} already "
                        "defines it, so this file is not loaded; give one of them another id",
                    )
                )
                continue
            active[lesson_id] = entry
        self._active = dict(sorted(active.items(), key=lambda item: item[1].path))
        self._link_errors = errors
        self._order = self._topological(errors)

    def _rename_pending(self) -> list[LessonError]:
        """A file that renamed its lesson takes the new id if no other file has it; else it keeps the
        version in use (the last good one) and says why."""
        errors: list[LessonError] = []
        for entry in self._entries.values():
            if entry.pending is None:
                continue
            lesson, locator = entry.pending
            holder = next(
                (e for e in self._entries.values() if e is not entry and e.lesson and e.lesson.id == lesson.id), None
            )
            if holder is None:
                entry.lesson, entry.locator, entry.pending = lesson, locator, None
                continue
            line = holder.locator.locate(("id",))[0] if holder.locator else None
            kept = entry.lesson.id if entry.lesson else "?"
            errors.append(
                locator.error(
                    ("id",),
                    f"duplicate lesson id {lesson.id!r}: {holder.path}{f':{line}' if line else ''} already defines "
                    f"it, so this file keeps its last good version ({kept!r}); give one of them another id",
                )
            )
        return errors

    def _topological(self, errors: list[LessonError]) -> list[Lesson]:
        """Prerequisites first; ties broken by file path.  Unknown ids and cycles become errors."""
        waiting: dict[str, set[str]] = {}
        dependants: dict[str, list[str]] = {lesson_id: [] for lesson_id in self._active}
        for lesson_id, entry in self._active.items():
            assert entry.lesson is not None and entry.locator is not None
            waiting[lesson_id] = set()
            for index, prerequisite in enumerate(entry.lesson.prerequisites):
                if prerequisite in self._active:
                    waiting[lesson_id].add(prerequisite)
                    dependants[prerequisite].append(lesson_id)
                    continue
                close = difflib.get_close_matches(prerequisite, list(self._active), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append(
                    entry.locator.error(
                        ("prerequisites", index), f"unknown prerequisite {prerequisite!r}: no lesson has that id{hint}"
                    )
                )
        ready = [(self._active[i].path, i) for i, deps in waiting.items() if not deps]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, lesson_id = heapq.heappop(ready)
            order.append(lesson_id)
            for dependant in dependants[lesson_id]:
                waiting[dependant].discard(lesson_id)
                if not waiting[dependant]:
                    heapq.heappush(ready, (self._active[dependant].path, dependant))
        stuck = sorted((i for i in self._active if i not in order), key=lambda i: self._active[i].path)
        for lesson_id in stuck:
            entry = self._active[lesson_id]
            assert entry.locator is not None
            cycle = ", ".join(sorted(waiting[lesson_id]))
            errors.append(
                entry.locator.error(
                    ("prerequisites",),
                    f"prerequisites form a cycle: {lesson_id!r} waits for {cycle}, which wait for it",
                )
            )
        return [self._lesson(i) for i in [*order, *stuck]]

    # --- queries ------------------------------------------------------------------------------------

    @property
    def errors(self) -> list[LessonError]:
        """Current problems of every file, then the cross-file ones (duplicates, prerequisites)."""
        file_errors = [e for path in sorted(self._entries) for e in self._entries[path].errors]
        return [*file_errors, *self._link_errors]

    def _lesson(self, lesson_id: str) -> Lesson:
        entry = self._active.get(lesson_id)
        if entry is None or entry.lesson is None:
            raise UnknownLesson(lesson_id)
        return entry.lesson

    def lessons(self) -> list[Lesson]:
        """Every loaded lesson: prerequisites first, then file path order."""
        return list(self._order)

    def __len__(self) -> int:
        return len(self._active)

    def __contains__(self, lesson_id: object) -> bool:
        return lesson_id in self._active

    def get(self, lesson_id: str) -> Lesson:
        return self._lesson(lesson_id)

    def example(self, lesson_id: str, example_id: str | None = None) -> tuple[Lesson, Example]:
        """The lesson and its example (the first one when `example_id` is None)."""
        lesson = self._lesson(lesson_id)
        example = lesson.example(example_id)
        if example is None:
            raise UnknownExample(lesson_id, example_id or "")
        return lesson, example

    def source(self, lesson_id: str) -> Path:
        self._lesson(lesson_id)
        return self._active[lesson_id].path

    def locator(self, lesson_id: str) -> Locator:
        """Positions of the loaded version of that lesson's file (for file:line messages)."""
        self._lesson(lesson_id)
        locator = self._active[lesson_id].locator
        assert locator is not None
        return locator

    def search(self, text: str, locale: str | None = None, limit: int = 25) -> list[Lesson]:
        """Lessons whose id or title contains `text` (case-insensitive); prefix matches first."""
        needle = text.strip().casefold()
        prefix: list[Lesson] = []
        inside: list[Lesson] = []
        for lesson in self._order:
            names = [lesson.id.casefold(), lesson.title.get(locale).casefold(), lesson.title.get().casefold()]
            if any(name.startswith(needle) for name in names):
                prefix.append(lesson)
            elif any(needle in name for name in names):
                inside.append(lesson)
        return [*prefix, *inside][: max(limit, 0)]
