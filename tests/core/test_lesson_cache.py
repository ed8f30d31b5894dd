"""The parsed-lesson cache: hits on a restart, and never trusted blindly (real files, real catalog)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import pytest

from bot.core import lesson_cache
from bot.core.catalog import Catalog
from bot.core.lesson_cache import LessonCache, cache_key

LESSON = (
    "id: {id}\n"
    "title: {{en: A title, zh-CN: 标题}}\n"
    "examples:\n"
    "  - id: first\n"
    "    code: |\n"
    "      import asyncio\n"
    "      asyncio.run(asyncio.sleep(0))\n"
    "    expect: {{output: [], elapsed: {{seconds: 0.0}}}}\n"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.yaml").write_text(LESSON.format(id=name), encoding="utf-8")
    return folder


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("lessons-*/*.json"))


def test_a_restart_takes_every_file_from_the_cache_and_gets_the_same_lessons(root: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    first = Catalog(root, cache_dir=cache_dir)
    assert first.load().ok
    assert first.cache is not None and (first.cache.hits, first.cache.misses) == (0, 3)
    assert len(entries(cache_dir)) == 3
    again = Catalog(root, cache_dir=cache_dir)
    assert again.load().ok
    assert again.cache is not None and (again.cache.hits, again.cache.misses) == (3, 0)
    assert again.lessons() == first.lessons()
    # positions are rebuilt from the file's bytes when an error or a check needs them
    assert again.locator("b").locate(("title", "zh-CN")) == (2, 29)


def test_a_changed_file_misses_and_its_old_entry_goes_on_the_next_load(root: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    Catalog(root, cache_dir=cache_dir).load()
    before = set(entries(cache_dir))
    (root / "b.yaml").write_text(LESSON.format(id="b").replace("A title", "Retitled"), encoding="utf-8")
    catalog = Catalog(root, cache_dir=cache_dir)
    catalog.load()
    assert catalog.cache is not None and (catalog.cache.hits, catalog.cache.misses) == (2, 1)
    assert catalog.get("b").title.get() == "Retitled"
    after = set(entries(cache_dir))
    assert len(after) == 3 and len(after - before) == 1  # the stale entry was pruned


def test_invalid_files_are_not_cached(root: Path, tmp_path: Path) -> None:
    (root / "bad.yaml").write_text("id: bad\ntitle: Bad\n", encoding="utf-8")
    cache_dir = tmp_path / "cache"
    report = Catalog(root, cache_dir=cache_dir).load()
    assert [e.line for e in report.errors] == [1]
    assert len(entries(cache_dir)) == 3
    again = Catalog(root, cache_dir=cache_dir).load()  # still parsed, still reported with its line
    assert [str(e) for e in again.errors] == [str(e) for e in report.errors]


@pytest.mark.parametrize(
    "damage",
    ["truncated", "flipped byte", "empty", "garbage", "entry of another file", "valid checksum, wrong data"],
)
def test_a_damaged_or_forged_entry_is_ignored_logged_and_replaced(
    root: Path, tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    cache_dir = tmp_path / "cache"
    Catalog(root, cache_dir=cache_dir).load()
    target = next(p for p in entries(cache_dir) if p.stem == cache_key((root / "a.yaml").read_bytes()))
    other = next(p for p in entries(cache_dir) if p != target)
    blob = target.read_bytes()
    if damage == "truncated":
        target.write_bytes(blob[: len(blob) // 2])
    elif damage == "flipped byte":
        target.write_bytes(blob.replace(b"A title", b"A titlf"))
    elif damage == "empty":
        target.write_bytes(b"")
    elif damage == "garbage":
        target.write_bytes(b"\x00\xff" * 50)
    elif damage == "entry of another file":
        target.write_bytes(other.read_bytes())
    else:  # someone who can write the cache: a sound entry whose data is not a valid lesson
        payload = json.dumps({"key": target.stem, "data": {"id": "a", "title": 5, "examples": []}}).encode()
        target.write_bytes(hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
    catalog = Catalog(root, cache_dir=cache_dir)
    with caplog.at_level(logging.WARNING, logger="bot.core.lesson_cache"):
        assert catalog.load().ok
    assert catalog.get("a").title.get() == "A title"  # from the file, not from the entry
    assert catalog.cache is not None and catalog.cache.hits == 2
    if damage != "valid checksum, wrong data":  # that one is sound as a cache entry: validation refuses it
        assert f"lesson cache: ignoring {target}" in caplog.text
    assert Catalog(root, cache_dir=cache_dir).load().ok
    fresh = LessonCache(target.parent)
    assert fresh.get(target.stem) is not None  # rewritten sound


def test_entries_of_another_loader_or_python_are_never_used(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    Catalog(root, cache_dir=cache_dir).load()
    monkeypatch.setattr(lesson_cache, "SALT", lesson_cache.SALT.replace(b"python-", b"python-9"))
    catalog = Catalog(root, cache_dir=cache_dir)
    catalog.load()
    assert catalog.cache is not None and (catalog.cache.hits, catalog.cache.misses) == (0, 3)


def test_an_unwritable_cache_folder_only_costs_the_cache(
    root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the folder should be")
    catalog = Catalog(root, cache_dir=blocker)
    with caplog.at_level(logging.WARNING, logger="bot.core.lesson_cache"):
        assert catalog.load().ok
    assert len(catalog) == 3
    assert caplog.text.count("lesson cache: cannot write") == 1  # once, not per file


def test_stray_temporary_files_are_pruned_only_when_old(root: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    catalog = Catalog(root, cache_dir=cache_dir)
    catalog.load()
    assert catalog.cache is not None
    folder = catalog.cache.folder
    fresh, old = folder / ".fresh.tmp", folder / ".old.tmp"
    fresh.write_text("x")
    old.write_text("x")
    os.utime(old, (1, 1))
    Catalog(root, cache_dir=cache_dir).load()
    assert fresh.exists() and not old.exists()
