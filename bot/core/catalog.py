"""The lesson catalog: every `*.yaml` / `*.yml` under a folder, one lesson per file, hot-reloadable.

A broken file never stops the others from loading; every problem is a `LessonError` whose `str()` is
`path:line:col: reason`.  `refresh()` re-reads only files whose (mtime_ns, size) changed, plus added and
removed ones; a file that becomes invalid keeps its last good lesson loaded while its error is reported.
Cross-file rules (unique lesson ids, known prerequisites, no prerequisite cycles) are re-checked after
every pass, so fixing one file can bring another one back.

The folder itself may go wrong while the bot runs: removed, unreadable, a symlink loop inside, a file
rewritten while it is read.  Each is reported (in `errors` and once in a report, so the log, `/reload` and
`lessons check` show it) and nothing already loaded is dropped for it: the lessons of a folder that cannot
be listed stay as they were until it can be again.

`watch()` applies changes as they happen (inotify, see `bot.core.watch`), or by polling when inotify is
not available.  With a `cache_dir`, the YAML of valid files is cached by content (`bot.core.lesson_cache`),
so a restart validates cached data instead of parsing every file again.
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import heapq
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.errors import LessonError, UnknownExample, UnknownLesson
from bot.core.lesson_cache import LessonCache
from bot.core.lesson_files import SUFFIXES, Parsed, Scan, Stamp, locator_for, read_lesson, read_lessons, restat, scan
from bot.core.lessons import Example, Lesson
from bot.core.watch import Notifier, NotifierStopped
from bot.core.yamllimits import LIMITS, YamlLimits
from bot.core.yamlsource import Locator

log = logging.getLogger(__name__)

__all__ = ["SUFFIXES", "Catalog", "LoadReport", "Stamp", "parse_lesson_file"]

RESCAN_SECONDS = 60.0  # with inotify, a full stat pass this often anyway (an overflowed event queue loses events)
NOTIFY_RETRY_SECONDS = 60.0  # after inotify failed to start, poll this long before trying it again


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
class _Entry:
    path: Path
    stamp: Stamp
    digest: str | None = None  # of the file's current contents
    lesson: Lesson | None = None  # the last version that validated
    source: bytes | None = None  # the bytes of `lesson`, for its positions
    locator: Locator | None = None  # positions for `lesson`, built when first needed
    errors: list[LessonError] = field(default_factory=list)  # problems of the file's current contents
    # A newer valid version that renamed the lesson to an id another file holds: `lesson` (the version in
    # use) stays until that id is free.
    pending: Parsed | None = None
    order: tuple[str, ...] = ()  # `path.parts`: sorts like the path, without pathlib's slow comparisons

    def __post_init__(self) -> None:
        self.order = self.path.parts


def parse_lesson_file(
    path: Path, *, limits: YamlLimits = LIMITS
) -> tuple[Lesson | None, Locator | None, list[LessonError]]:
    """Read and validate one file: (lesson, its locator, errors).  Never raises for a bad file."""
    parsed = read_lesson(path, limits=limits)
    if parsed.lesson is not None and parsed.source is not None:
        return parsed.lesson, locator_for(path, parsed.source, limits), []
    return None, parsed.locator, parsed.errors


class Catalog:
    """Lessons under `root`, keyed by id; see the module docstring.

    `cache_dir` (e.g. the data folder's `cache/`) enables the parsed-YAML cache; `limits` bounds what one
    file may cost to parse."""

    def __init__(self, root: Path, *, cache_dir: Path | None = None, limits: YamlLimits = LIMITS) -> None:
        self.root = root
        self.limits = limits
        self.cache: LessonCache | None = None
        if cache_dir is not None:
            where = hashlib.sha256(os.fsencode(os.path.abspath(root))).hexdigest()[:16]
            self.cache = LessonCache(cache_dir / f"lessons-{where}")
        self._entries: dict[Path, _Entry] = {}
        self._active: dict[str, _Entry] = {}
        self._order: list[Lesson] = []
        self._link_errors: list[LessonError] = []
        self._scan_errors: list[LessonError] = []  # the folder's own problems (gone, unreadable, loops)
        self.watch_mode: str | None = None  # while `watch()` runs: "inotify" or "polling"

    # --- loading ------------------------------------------------------------------------------------

    def load(self) -> LoadReport:
        """Scan `root` recursively and (re)load every lesson file; reports every error."""
        found, parsed = self._prepare({}, set())
        report = self._apply(found, parsed, full=True)
        if self.cache is not None and not found.root_missing:
            self.cache.prune({e.digest for e in self._entries.values() if e.digest})
        return report

    def refresh(self, changed: set[Path] | None = None) -> LoadReport:
        """Reload changed, added and removed files only; reports what changed and new errors.

        `changed` names files to read again even if their (mtime, size) looks the same (a watcher saw
        them written); they count as changed only if their bytes differ."""
        found, parsed = self._prepare(self._known(), changed or set())
        return self._apply(found, parsed, full=False)

    async def watch(
        self, interval: float = 1.0, on_change: Callable[[LoadReport], None] | None = None, *, notify: bool = True
    ) -> None:
        """Apply changes until cancelled: as they happen through inotify, else (inotify unavailable, or
        `notify=False`) by polling every `interval` seconds.  Logs each change; `on_change` gets each report
        that changed something.  Cancelling it stops the watch thread promptly and joins it."""
        loop = asyncio.get_running_loop()
        next_try = loop.time() if notify else float("inf")  # when to (re)try inotify
        polling_logged = False
        try:
            while True:
                notifier = None
                if loop.time() >= next_try and self.root.is_dir():
                    notifier = await self._start_notifier()
                    next_try = loop.time() + (interval if notifier else NOTIFY_RETRY_SECONDS)
                if notifier is None:
                    if not polling_logged:
                        log.info("polling %s for lesson changes every %.1fs", self.root, interval)
                    self.watch_mode, polling_logged = "polling", True
                    await self._reload(set(), on_change)
                    await asyncio.sleep(interval)
                    continue
                self.watch_mode, polling_logged = "inotify", False
                try:
                    await self._reload(set(), on_change)  # what changed before the watch began
                    await self._follow(notifier, interval, on_change)
                finally:
                    await notifier.close()
                next_try = loop.time() + interval  # a watch that keeps failing must not spin
        finally:
            self.watch_mode = None

    async def _start_notifier(self) -> Notifier | None:
        try:
            notifier = await Notifier.start(self.root)
        except (OSError, RuntimeError) as exc:
            log.warning("cannot watch %s with inotify (%s); polling for lesson changes instead", self.root, exc)
            return None
        log.info("watching %s for lesson changes (inotify)", self.root)
        return notifier

    async def _follow(
        self, notifier: Notifier, interval: float, on_change: Callable[[LoadReport], None] | None
    ) -> None:
        """Reload on each batch of changes until the notifier is of no more use: it stopped, or the folder
        it watches was removed or replaced (inotify follows the old folder, not the path)."""
        loop = asyncio.get_running_loop()
        rescan_at = loop.time() + RESCAN_SECONDS
        while True:
            try:
                changed = {Path(p) for p in await notifier.changes(interval)}
            except NotifierStopped as exc:
                log.warning("watching %s stopped (%s); polling until it can start again", self.root, exc)
                return
            if changed or loop.time() >= rescan_at:
                rescan_at = loop.time() + RESCAN_SECONDS
                await self._reload(changed, on_change)
            elif _identity(self.root) != notifier.identity:  # a quiet interval: still the same folder?
                log.info("%s was removed or replaced; watching it again when it is back", self.root)
                await self._reload(set(), on_change)
                return

    async def _reload(self, changed: set[Path], on_change: Callable[[LoadReport], None] | None) -> None:
        """Apply what changed: the files a watcher named (only those, when they are all lesson files), or
        whatever a walk of the folder finds."""
        forced = {path for path in changed if path.suffix in SUFFIXES}
        try:
            found, parsed = await asyncio.to_thread(self._prepare, self._known(), forced, changed or None)
            report = self._apply(found, parsed, full=False)
        except Exception:
            log.exception("reloading lessons from %s failed", self.root)
            return
        if not report.changed:
            return
        log.info("lessons changed: %s", report.describe())
        for error in report.errors:
            log.warning("%s", error)
        if on_change is not None:
            try:
                on_change(report)
            except Exception:
                log.exception("lesson change callback failed")

    def _known(self) -> dict[Path, tuple[Stamp, str | None]]:
        return {path: (entry.stamp, entry.digest) for path, entry in self._entries.items()}

    def _prepare(
        self,
        known: Mapping[Path, tuple[Stamp, str | None]],
        forced: set[Path],
        watched: set[Path] | None = None,
    ) -> tuple[Scan, dict[Path, Parsed]]:
        """Scan, and read the files whose stamp differs from `known` (all when empty) or that are in
        `forced`.  `watched` (paths a watcher saw change) is looked at alone when that is enough
        (`restat`).  Touches no catalog state, so it may run in a worker thread."""
        found = None
        if watched is not None:
            found = restat(self.root, {path: stamp for path, (stamp, _) in known.items()}, watched)
        if found is None:
            found = scan(self.root)
        wanted = [path for path, stamp in found.files.items() if _changed(known.get(path), stamp) or path in forced]
        return found, read_lessons(wanted, limits=self.limits, cache=self.cache)

    def _apply(self, found: Scan, parsed: dict[Path, Parsed], *, full: bool) -> LoadReport:
        before = {lesson_id: entry.lesson for lesson_id, entry in self._active.items()}
        old_errors = {str(e) for e in (*self._link_errors, *self._scan_errors)}
        report = LoadReport()
        if not found.partial:
            self._scan_errors = list(found.errors)
        if found.root_missing and self._active:
            kept = len(self._active)
            self._scan_errors = [
                LessonError(e.path, e.line, e.column, f"{e.message}; keeping the {kept} lesson(s) loaded before")
                for e in found.errors
            ]
        gone = [p for p in self._entries if p not in found.files and not _under(p, found.unlisted)]
        for path in gone:
            log.debug("lesson file removed: %s", path)
            del self._entries[path]
        reread: set[str] = set()  # an author who saves a file sees its cross-file errors again
        resaved: set[str] = set()
        for path, item in parsed.items():
            entry = self._entries.get(path)
            if entry is not None and entry.digest == item.digest and item.digest is not None and not full:
                entry.stamp = item.stamp  # same bytes (touched, or saved again unchanged): nothing to apply,
                report.errors.extend(entry.errors)  # but its author sees its errors again
                resaved.add(str(path))
                continue
            reread.add(str(path))
            if entry is None:
                entry = self._entries[path] = _Entry(path, item.stamp)
            entry.stamp, entry.digest = item.stamp, item.digest
            entry.errors = item.errors
            report.errors.extend(item.errors)
            entry.pending = None
            if item.lesson is not None:
                in_use = entry.lesson is not None and self._active.get(entry.lesson.id) is entry
                if in_use and entry.lesson is not None and item.lesson.id != entry.lesson.id:
                    entry.pending = item  # `_resolve` decides whether the new id is free
                else:
                    entry.lesson, entry.source, entry.locator = item.lesson, item.source, item.locator
            elif entry.lesson is not None and self._active.get(entry.lesson.id) is entry:
                report.kept.append(entry.lesson.id)
                log.warning("%s is invalid; keeping its last good version of %r", path, entry.lesson.id)
        if full or gone or reread:  # else nothing the cross-file rules look at has changed
            self._resolve()
        for entry in self._entries.values():
            if entry.pending is not None and str(entry.path) in reread and entry.lesson is not None:
                report.kept.append(entry.lesson.id)
                log.warning("%s renames its lesson to an id in use; keeping %r", entry.path, entry.lesson.id)
        for lesson_id, entry in self._active.items():
            if before.get(lesson_id) is not entry.lesson:
                report.loaded.append(lesson_id)
        report.removed = [lesson_id for lesson_id in before if lesson_id not in self._active]
        report.errors.extend(e for e in self._scan_errors if full or str(e) not in old_errors)
        report.errors.extend(
            e for e in self._link_errors if full or e.path in reread or e.path in resaved or str(e) not in old_errors
        )
        return report

    def _locator(self, entry: _Entry) -> Locator:
        """Positions of the version of `entry` in use, parsed again from its bytes the first time."""
        if entry.locator is None:
            assert entry.source is not None, "a loaded lesson keeps its bytes"
            entry.locator = locator_for(entry.path, entry.source, self.limits)
        return entry.locator

    def _resolve(self) -> None:
        """Pick the file that owns each id, check prerequisites, and order the lessons."""
        owners = {lesson_id: entry.path for lesson_id, entry in self._active.items()}
        errors = self._rename_pending()
        candidates = [e for e in self._entries.values() if e.lesson is not None]
        # the file that already owns an id keeps it; otherwise the first by path wins
        candidates.sort(key=lambda e: (owners.get(e.lesson.id if e.lesson else "") != e.path, e.order))
        active: dict[str, _Entry] = {}
        for entry in candidates:
            assert entry.lesson is not None
            lesson_id = entry.lesson.id
            if lesson_id in active:
                other = active[lesson_id]
                errors.append(
                    self._locator(entry).error(
                        ("id",),
                        f"duplicate lesson id {lesson_id!r}: {self._where_id(other)} already "
                        "defines it, so this file is not loaded; give one of them another id",
                    )
                )
                continue
            active[lesson_id] = entry
        self._active = dict(sorted(active.items(), key=lambda item: item[1].order))
        self._link_errors = errors
        self._order = self._topological(errors)

    def _where_id(self, entry: _Entry) -> str:
        line = self._locator(entry).locate(("id",))[0]
        return f"{entry.path}:{line}" if line else str(entry.path)

    def _rename_pending(self) -> list[LessonError]:
        """A file that renamed its lesson takes the new id if no other file has it; else it keeps the
        version in use (the last good one) and says why."""
        errors: list[LessonError] = []
        for entry in self._entries.values():
            if entry.pending is None or entry.pending.lesson is None:
                continue
            pending, lesson = entry.pending, entry.pending.lesson
            holder = next(
                (e for e in self._entries.values() if e is not entry and e.lesson and e.lesson.id == lesson.id), None
            )
            if holder is None:
                entry.lesson, entry.source, entry.locator = lesson, pending.source, pending.locator
                entry.pending = None
                continue
            if pending.locator is None and pending.source is not None:
                pending.locator = locator_for(entry.path, pending.source, self.limits)
            assert pending.locator is not None
            kept = entry.lesson.id if entry.lesson else "?"
            errors.append(
                pending.locator.error(
                    ("id",),
                    f"duplicate lesson id {lesson.id!r}: {self._where_id(holder)} already defines "
                    f"it, so this file keeps its last good version ({kept!r}); give one of them another id",
                )
            )
        return errors

    def _topological(self, errors: list[LessonError]) -> list[Lesson]:
        """Prerequisites first; ties broken by file path.  Unknown ids and cycles become errors."""
        waiting: dict[str, set[str]] = {}
        dependants: dict[str, list[str]] = {lesson_id: [] for lesson_id in self._active}
        for lesson_id, entry in self._active.items():
            assert entry.lesson is not None
            waiting[lesson_id] = set()
            for index, prerequisite in enumerate(entry.lesson.prerequisites):
                if prerequisite in self._active:
                    waiting[lesson_id].add(prerequisite)
                    dependants[prerequisite].append(lesson_id)
                    continue
                close = difflib.get_close_matches(prerequisite, list(self._active), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                errors.append(
                    self._locator(entry).error(
                        ("prerequisites", index), f"unknown prerequisite {prerequisite!r}: no lesson has that id{hint}"
                    )
                )
        ready = [(self._active[i].order, i) for i, deps in waiting.items() if not deps]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, lesson_id = heapq.heappop(ready)
            order.append(lesson_id)
            for dependant in dependants[lesson_id]:
                waiting[dependant].discard(lesson_id)
                if not waiting[dependant]:
                    heapq.heappush(ready, (self._active[dependant].order, dependant))
        placed = set(order)
        stuck = sorted((i for i in self._active if i not in placed), key=lambda i: self._active[i].order)
        for lesson_id in stuck:
            entry = self._active[lesson_id]
            cycle = ", ".join(sorted(waiting[lesson_id]))
            errors.append(
                self._locator(entry).error(
                    ("prerequisites",),
                    f"prerequisites form a cycle: {lesson_id!r} waits for {cycle}, which wait for it",
                )
            )
        return [self._lesson(i) for i in [*order, *stuck]]

    # --- queries ------------------------------------------------------------------------------------

    @property
    def errors(self) -> list[LessonError]:
        """The folder's own problems, current problems of every file, then the cross-file ones (duplicates,
        prerequisites)."""
        file_errors = [e for path in sorted(self._entries) for e in self._entries[path].errors]
        return [*self._scan_errors, *file_errors, *self._link_errors]

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
        return self._locator(self._active[lesson_id])

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


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _under(path: Path, folders: list[Path]) -> bool:
    return any(path.is_relative_to(folder) for folder in folders)


def _changed(before: tuple[Stamp, str | None] | None, stamp: Stamp) -> bool:
    return before is None or before[0] != stamp
