"""The lessons folder on disk: finding lesson files, and reading and validating one of them.

Both are pure (no catalog state) so the catalog can run them in a worker thread.  Neither raises for a bad
folder or file: every problem comes back as a `LessonError` (`path:line:col: reason`).

- `scan(root)` walks the folder itself (not `Path.rglob`, which silently skips what it cannot read): a
  folder it cannot list, a symlink that loops back to a folder already walked, and a lesson file it cannot
  stat are each reported, and the folders it could not list are named so the catalog keeps the lessons
  it loaded from them before.
- `read_lesson(path, ...)` reads at most `limits.max_bytes` (+1 to tell) from a regular file opened
  without blocking (a FIFO named `x.yaml` cannot stall the loader), re-reads once if the file changed
  while it was read, and then either takes the data from the `LessonCache` (keyed by the bytes) or parses
  it within the YAML limits.  Positions (`Locator`) are built only when an error needs them; a valid
  lesson keeps its bytes so the catalog can build them later (`locator_for`).
"""

from __future__ import annotations

import gc
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from bot.core.errors import LessonError
from bot.core.lesson_cache import LessonCache, cache_key
from bot.core.lessons import COMPILED, Lesson
from bot.core.yamllimits import LIMITS, YamlLimits, size_error
from bot.core.yamlsource import Locator, describe_validation_error, load_yaml, parse_yaml

log = logging.getLogger(__name__)

SUFFIXES = (".yaml", ".yml")
Stamp = tuple[int, int]  # (st_mtime_ns, st_size)
BULK_FILES = 50  # reading at least this many files at once: see `read_lessons`


@dataclass(slots=True)
class Scan:
    files: dict[Path, Stamp] = field(default_factory=dict)  # lesson files found, in path order
    errors: list[LessonError] = field(default_factory=list)  # folders/files that could not be looked at
    unlisted: list[Path] = field(default_factory=list)  # folders whose contents are unknown this time
    root_missing: bool = False  # the folder itself is gone or unreadable (then `unlisted` holds it)
    partial: bool = False  # from `restat`: only some files were looked at; `errors` says nothing new


def scan(root: Path) -> Scan:
    """Every `*.yaml`/`*.yml` under `root` (hidden names skipped), following symlinks but not loops."""
    result = Scan()
    try:
        info = root.stat()
    except OSError as exc:
        result.root_missing = True
        result.unlisted.append(root)
        reason = "does not exist" if isinstance(exc, FileNotFoundError) else f"cannot be read ({exc.strerror})"
        result.errors.append(LessonError(str(root), None, None, f"the lessons folder {reason}"))
        return result
    if not stat.S_ISDIR(info.st_mode):
        result.root_missing = True
        result.unlisted.append(root)
        result.errors.append(LessonError(str(root), None, None, "the lessons folder is not a folder"))
        return result
    walked: dict[tuple[int, int], Path] = {(info.st_dev, info.st_ino): root}
    found: list[tuple[Path, Stamp]] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError as exc:
            result.unlisted.append(folder)
            if folder == root:
                result.root_missing = True
                message = f"cannot read the lessons folder ({exc.strerror})"
            else:
                message = f"cannot read this folder ({exc.strerror}); the lessons in it stay as they were"
            result.errors.append(LessonError(str(folder), None, None, message))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                is_dir = entry.is_dir()  # follows symlinks; False for a dangling or looping one
                if is_dir:
                    info = entry.stat()
            except OSError as exc:  # e.g. a symlink looping on itself
                what = "read the file" if entry.name.endswith(SUFFIXES) else "look at it"
                result.errors.append(LessonError(str(path), None, None, f"cannot {what} ({exc.strerror})"))
                continue
            if is_dir:
                seen = walked.setdefault((info.st_dev, info.st_ino), path)
                if seen is not path:
                    result.errors.append(
                        LessonError(str(path), None, None, f"a symlink back to {seen} (a loop); not followed")
                    )
                else:
                    pending.append(path)
                continue
            if not entry.name.endswith(SUFFIXES):
                continue
            try:
                info = entry.stat()
            except OSError as exc:  # a dangling or looping symlink named like a lesson
                result.errors.append(LessonError(str(path), None, None, f"cannot read the file ({exc.strerror})"))
                continue
            if stat.S_ISREG(info.st_mode):
                found.append((path, (info.st_mtime_ns, info.st_size)))
    result.files = dict(sorted(found))
    return result


def restat(root: Path, files: Mapping[Path, Stamp], changed: Iterable[Path]) -> Scan | None:
    """What `scan(root)` would find if only the files `changed` changed (a watcher named them), from a
    stat of each instead of a walk of the whole folder; None when a walk is needed (a folder changed)."""
    result = Scan(files=dict(files), partial=True)
    for path in changed:
        try:
            relative = path.relative_to(root)
        except ValueError:
            return None
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden: never a lesson
        if not path.name.endswith(SUFFIXES):
            return None  # a folder added, removed or renamed: walk
        try:
            info = path.stat()
        except FileNotFoundError:
            result.files.pop(path, None)
            continue
        except OSError:
            return None  # let the walk report it
        if stat.S_ISDIR(info.st_mode):
            return None
        if stat.S_ISREG(info.st_mode):
            result.files[path] = (info.st_mtime_ns, info.st_size)
        else:
            result.files.pop(path, None)
    return result


@dataclass(slots=True)
class Parsed:
    """One file read and validated."""

    stamp: Stamp
    digest: str | None  # cache key of the bytes read (None when the file could not be read)
    lesson: Lesson | None
    source: bytes | None  # the bytes `lesson` came from, for its positions later
    errors: list[LessonError]
    locator: Locator | None = None  # built only when an error needed positions


class NotRegularFile(OSError):
    """A FIFO, device or the like where a lesson file was expected."""


def _read_once(path: Path, limit: int) -> tuple[bytes, Stamp, Stamp]:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            raise NotRegularFile("not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    return b"".join(chunks), (before.st_mtime_ns, before.st_size), (after.st_mtime_ns, after.st_size)


def _read_bytes(path: Path, limit: int) -> tuple[bytes, Stamp]:
    """At most `limit` + 1 bytes of a regular file, and its stamp; read again (twice at most) when the file
    changed while it was read, e.g. truncated and rewritten in place."""
    raw, before, after = _read_once(path, limit)
    for _ in range(2):
        if before == after:
            break
        raw, before, after = _read_once(path, limit)
    return raw, after


def read_lesson(path: Path, *, limits: YamlLimits = LIMITS, cache: LessonCache | None = None) -> Parsed:
    """Read and validate one file.  Never raises for a bad file."""
    shown = str(path)
    try:
        raw, stamp = _read_bytes(path, limits.max_bytes)
    except OSError as exc:
        return Parsed((0, 0), None, None, None, [LessonError(shown, None, None, _read_problem(exc))])
    digest = cache_key(raw)
    try:
        return _parse(raw, stamp, digest, shown, limits, cache)
    except Exception as exc:  # a bug must not stop the other files from loading
        log.exception("loading %s failed", shown)
        return Parsed(stamp, digest, None, None, [LessonError(shown, None, None, f"could not be loaded: {exc!r}")])


def read_lessons(
    paths: list[Path], *, limits: YamlLimits = LIMITS, cache: LessonCache | None = None
) -> dict[Path, Parsed]:
    """`read_lesson` for each path.  While many files are read at once, cyclic garbage collection is off:
    each file allocates thousands of short-lived objects (YAML nodes) while the lessons already read
    accumulate, so the collector would scan ever more survivors -- a fifth of a 1,000-file load.  Each
    read is bounded (`YamlLimits`) and its garbage is freed by reference counting; the collector is back
    on as soon as the batch is read."""
    if len(paths) < BULK_FILES or not gc.isenabled():
        return {path: read_lesson(path, limits=limits, cache=cache) for path in paths}
    gc.disable()
    try:
        return {path: read_lesson(path, limits=limits, cache=cache) for path in paths}
    finally:
        gc.enable()


def _read_problem(exc: OSError) -> str:
    if isinstance(exc, NotRegularFile):
        return "not a regular file (a lesson is a text file)"
    return f"cannot read the file: {exc.strerror or exc}"


def _parse(raw: bytes, stamp: Stamp, digest: str, shown: str, limits: YamlLimits, cache: LessonCache | None) -> Parsed:
    too_big = size_error(raw, limits)
    if too_big is not None:
        return Parsed(stamp, digest, None, None, [LessonError(shown, too_big[0], None, too_big[1])])
    if cache is not None:
        data = cache.get(digest)
        if isinstance(data, dict):
            try:
                return Parsed(stamp, digest, Lesson.model_validate(data, context={COMPILED: True}), raw, [])
            except ValidationError:  # the lesson rules changed since (or a forged entry): parse the file
                cache.reject(digest)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = LessonError(shown, line, column, "the file is not UTF-8 text; save it as UTF-8")
        return Parsed(stamp, digest, None, None, [problem])
    try:
        data, node = parse_yaml(text, shown, limits)
    except LessonError as exc:
        return Parsed(stamp, digest, None, None, [exc])
    if data is None:
        message = "the file is empty; a lesson is a mapping with at least `id`, `title` and `examples`"
        return Parsed(stamp, digest, None, None, [LessonError(shown, 1, 1, message)])
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r:.40})"
        message = f"a lesson file must be a mapping (`id: ...`, `title: ...`, `examples: ...`), not {kind}"
        locator = Locator.from_node(shown, text, node, data)
        return Parsed(stamp, digest, None, None, [locator.error((), message)], locator)
    try:
        lesson = Lesson.model_validate(data)
    except ValidationError as exc:
        locator = Locator.from_node(shown, text, node, data)
        return Parsed(stamp, digest, None, None, describe_validation_error(exc, locator, Lesson), locator)
    if cache is not None:
        cache.put(digest, data)
    return Parsed(stamp, digest, lesson, raw, [])


def locator_for(path: Path, source: bytes, limits: YamlLimits = LIMITS) -> Locator:
    """Positions of a version of a file that validated (its bytes parse again the same way)."""
    _, locator = load_yaml(source.decode("utf-8"), str(path), limits)
    return locator
