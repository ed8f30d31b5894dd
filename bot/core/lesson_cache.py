"""A cache of lesson files' YAML data, keyed by the file's bytes, so a restart need not parse them again.

Parsing YAML is most of the cost of loading lessons (libyaml builds a node per value; compiling every
example is most of the rest).  For a file that validated, the cache keeps the plain data YAML produced --
not the validated lesson -- under `sha256(SALT + the file's bytes)`: the same bytes always give the same
data, so an entry can only be stale if the way YAML becomes data changes, and `SALT` names everything
that decides that (this format, PyYAML's version and loader, the Python version, which also decides what
compiles).  The lesson itself is validated again from that data on every load, so a change to the lesson
rules applies at once; only the `compile()` of each example is skipped, since the key says this Python
compiled those exact bytes before.

Entries are files `<key>.json` in a folder of their own: one line with the sha256 of the rest, then JSON
`{"key": ..., "data": ...}`.  Nothing in them is trusted blindly: a missing, truncated, altered or
misnamed entry (checksum, JSON or key mismatch) is a miss, logged, and the file is parsed again.  JSON,
not pickle, so even a forged entry can only hold data that then has to pass validation.  Writes go
through a temporary file and `os.replace`, so a crash never leaves half an entry; a folder that cannot be
written just means no cache (logged once).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when what an entry holds, or how bot.core.yamlsource turns YAML into data, changes
_LOADER = "libyaml" if hasattr(yaml, "CSafeLoader") else "pure"
SALT = (
    f"corobot-lesson-cache/{CACHE_FORMAT}/pyyaml-{yaml.__version__}-{_LOADER}/"
    f"python-{sys.version_info.major}.{sys.version_info.minor}\n"
).encode()
SUFFIX = ".json"
TMP_SUFFIX = ".tmp"
STALE_TMP_SECONDS = 3600  # a temporary file this old was left by a crash, not by a write in progress


def cache_key(raw: bytes) -> str:
    return hashlib.sha256(SALT + raw).hexdigest()


class LessonCache:
    """Entries in `folder` (created on the first write)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = 0
        self.misses = 0
        self._write_failed = False

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> Any | None:
        """The data stored for `key`, or None (absent, or not a sound entry: then it is logged and ignored)."""
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            self.misses += 1
            return None
        except OSError as exc:
            log.warning("lesson cache: cannot read %s (%s); parsing the lesson file instead", path, exc.strerror)
            self.misses += 1
            return None
        data = _decode(blob, key)
        if data is None:
            log.warning("lesson cache: ignoring %s (damaged or not an entry for this file); parsing again", path)
            self.misses += 1
            return None
        self.hits += 1
        return data["data"]

    def put(self, key: str, data: Any) -> None:
        """Store `data` (the YAML of a file that validated); data JSON cannot hold is simply not cached."""
        if self._write_failed:
            return
        try:
            payload = json.dumps({"key": key, "data": data}, ensure_ascii=False, separators=(",", ":")).encode()
        except (TypeError, ValueError):  # e.g. a `!!binary` value pydantic accepted as text
            return
        blob = hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=TMP_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(blob)
                os.replace(tmp, self._path(key))
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self._write_failed = True
            log.warning("lesson cache: cannot write in %s (%s); lessons load without it", self.folder, exc)

    def reject(self, key: str) -> None:
        """An entry `get` returned that the caller found unusable (its data no longer validates): gone."""
        log.info("lesson cache: entry %s no longer validates; parsing the file again", key)
        self.hits -= 1
        self.misses += 1
        with contextlib.suppress(OSError):
            self._path(key).unlink()

    def prune(self, keep: set[str]) -> int:
        """Delete the entries not in `keep`, and temporary files left by a crash; returns how many went."""
        removed = 0
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return 0
        now = time.time()
        for entry in entries:
            name = entry.name
            stale = name.endswith(SUFFIX) and name[: -len(SUFFIX)] not in keep
            if not stale and name.endswith(TMP_SUFFIX):
                with contextlib.suppress(OSError):
                    stale = now - entry.stat().st_mtime > STALE_TMP_SECONDS
            if stale:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
        return removed


def _decode(blob: bytes, key: str) -> dict[str, Any] | None:
    digest, newline, payload = blob.partition(b"\n")
    if not newline or hashlib.sha256(payload).hexdigest().encode() != digest:
        return None
    try:
        entry = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.get("key") != key or "data" not in entry:
        return None
    return entry
