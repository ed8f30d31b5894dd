"""The lessons folder going wrong while the bot runs (real Catalog, real files): removed, unreadable, symlink
loops, a FIFO, a file rewritten while it is read.  Each gives a clear error, the last good lessons stay, and
everything recovers when the folder does."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.catalog import Catalog
from bot.core.lesson_files import read_lesson, scan

LESSON = "id: {id}\ntitle: {title}\nexamples:\n  - id: e\n    code: print(1)\n"
NOBODY = 65534


@pytest.fixture
def root() -> Iterator[Path]:
    """A lessons folder others may enter (the unprivileged checks run as uid 65534; pytest's tmp is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="corobot-faults-"))
    base.chmod(0o755)
    folder = base / "lessons"
    folder.mkdir()
    (folder / "a.yaml").write_text(LESSON.format(id="a", title="First"))
    (folder / "sub").mkdir()
    (folder / "sub" / "b.yaml").write_text(LESSON.format(id="b", title="Second"))
    try:
        yield folder
    finally:
        shutil.rmtree(base)  # the tests restore what they chmod


@contextlib.contextmanager
def unprivileged() -> Iterator[None]:
    """Permissions apply to root only through its capabilities: run the block as uid/gid 65534."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def ids(catalog: Catalog) -> list[str]:
    return sorted(lesson.id for lesson in catalog.lessons())


def loaded(root: Path) -> Catalog:
    catalog = Catalog(root)
    assert catalog.load().ok
    assert ids(catalog) == ["a", "b"]
    return catalog


def test_the_folder_removed_keeps_the_lessons_reports_once_and_recovers(root: Path) -> None:
    catalog = loaded(root)
    shutil.rmtree(root)
    report = catalog.refresh()
    assert [str(e) for e in report.errors] == [
        f"{root}: the lessons folder does not exist; keeping the 2 lesson(s) loaded before"
    ]
    assert report.removed == [] and ids(catalog) == ["a", "b"]
    assert catalog.get("b").title.get() == "Second"
    again = catalog.refresh()
    assert again.errors == [] and not again.changed  # not repeated in every pass of the watcher ...
    assert [e.message for e in catalog.errors] == [e.message for e in report.errors]  # ... but still current
    root.mkdir()
    (root / "a.yaml").write_text(LESSON.format(id="a", title="Back"))
    report = catalog.refresh()
    assert report.removed == ["b"] and report.ok and catalog.errors == []
    assert ids(catalog) == ["a"] and catalog.get("a").title.get() == "Back"


def test_the_folder_replaced_by_a_file(root: Path) -> None:
    catalog = loaded(root)
    shutil.rmtree(root)
    root.write_text("oops")
    report = catalog.refresh()
    expected = "the lessons folder is not a folder; keeping the 2 lesson(s) loaded before"
    assert [e.message for e in report.errors] == [expected]
    assert ids(catalog) == ["a", "b"]


def test_an_unreadable_folder_keeps_its_lessons_and_recovers(root: Path) -> None:
    catalog = loaded(root)
    root.chmod(0)
    try:
        with unprivileged():
            report = catalog.refresh()
    finally:
        root.chmod(0o755)
    assert [str(e) for e in report.errors] == [
        f"{root}: cannot read the lessons folder (Permission denied); keeping the 2 lesson(s) loaded before"
    ]
    assert ids(catalog) == ["a", "b"]
    with unprivileged():
        report = catalog.refresh()
    assert report.ok and catalog.errors == [] and ids(catalog) == ["a", "b"]


def test_an_unreadable_subfolder_keeps_its_lessons_while_the_rest_updates(root: Path) -> None:
    catalog = loaded(root)
    (root / "sub").chmod(0)
    (root / "a.yaml").write_text(LESSON.format(id="a", title="Edited"))
    os.utime(root / "a.yaml", ns=(1, 1))
    try:
        with unprivileged():
            report = catalog.refresh()
    finally:
        (root / "sub").chmod(0o755)
    assert [str(e) for e in report.errors] == [
        f"{root / 'sub'}: cannot read this folder (Permission denied); the lessons in it stay as they were"
    ]
    assert report.loaded == ["a"] and report.removed == []
    assert catalog.get("a").title.get() == "Edited" and catalog.get("b").title.get() == "Second"
    (root / "sub" / "b.yaml").unlink()
    with unprivileged():
        report = catalog.refresh()
    assert report.removed == ["b"] and catalog.errors == []


def test_an_unreadable_file_keeps_its_last_good_version(root: Path) -> None:
    catalog = loaded(root)
    path = root / "a.yaml"
    path.write_text(LESSON.format(id="a", title="Edited"))
    path.chmod(0)
    try:
        with unprivileged():
            report = catalog.refresh()
    finally:
        path.chmod(0o644)
    assert [str(e) for e in report.errors] == [f"{path}: cannot read the file: Permission denied"]
    assert report.kept == ["a"] and catalog.get("a").title.get() == "First"
    with unprivileged():
        report = catalog.refresh()
    assert report.loaded == ["a"] and catalog.get("a").title.get() == "Edited" and catalog.errors == []


def test_symlink_loops_are_reported_and_not_followed(root: Path) -> None:
    (root / "sub" / "up").symlink_to("..")  # back to the root
    (root / "self").symlink_to(".")
    (root / "sub" / "again").symlink_to(root / "sub")
    (root / "knot.yaml").symlink_to("knot.yaml")  # a file symlink that loops on itself
    (root / "outside").symlink_to(root.parent)  # a real link to a folder that contains this one
    catalog = Catalog(root)
    report = catalog.load()
    assert ids(catalog) == ["a", "b"]  # each file once: no duplicate-id errors from walking a loop
    messages = sorted(str(e) for e in report.errors)
    assert messages == sorted(
        [
            f"{root / 'self'}: a symlink back to {root} (a loop); not followed",
            f"{root / 'sub' / 'up'}: a symlink back to {root} (a loop); not followed",
            f"{root / 'sub' / 'again'}: a symlink back to {root / 'sub'} (a loop); not followed",
            f"{root / 'knot.yaml'}: cannot read the file (Too many levels of symbolic links)",
            f"{root / 'outside' / 'lessons'}: a symlink back to {root} (a loop); not followed",
        ]
    )
    assert not catalog.refresh().errors  # reported once; still in `errors`
    assert len(catalog.errors) == 5


def test_a_fifo_never_blocks_the_loader(root: Path) -> None:
    fifo = root / "pipe.yaml"
    os.mkfifo(fifo)
    found = scan(root)
    assert fifo not in found.files  # not a regular file: not a lesson
    started = time.monotonic()
    parsed = read_lesson(fifo)  # opened without blocking even if handed one (e.g. swapped in after the scan)
    assert time.monotonic() - started < 5  # generous: a blocking open would never return
    assert [e.message for e in parsed.errors] == ["not a regular file (a lesson is a text file)"]


def test_a_file_truncated_and_rewritten_in_place_keeps_the_last_good_version_until_it_is_whole(root: Path) -> None:
    catalog = loaded(root)
    path = root / "a.yaml"
    new = LESSON.format(id="a", title="Rewritten") + "summary: a longer file than before\n"
    with path.open("w") as out:  # truncate, then write half: a reader in between sees a partial file
        out.write(new[:30])
        out.flush()
        report = catalog.refresh()
        assert report.kept == ["a"] and report.errors and catalog.get("a").title.get() == "First"
        assert all(e.path == str(path) and e.line is not None for e in report.errors)
        out.write(new[30:])
    report = catalog.refresh()
    assert report.loaded == ["a"] and report.ok
    assert catalog.get("a").title.get() == "Rewritten" and catalog.errors == []


def test_an_atomic_rename_replaces_the_file_in_one_step(root: Path) -> None:
    catalog = loaded(root)
    tmp = root / ".a.yaml.tmp"
    tmp.write_text(LESSON.format(id="a", title="Renamed"))
    assert catalog.refresh().changed is False  # hidden files are not lessons
    os.replace(tmp, root / "a.yaml")
    report = catalog.refresh()
    assert report.loaded == ["a"] and catalog.get("a").title.get() == "Renamed"


def test_a_writer_rewriting_a_file_while_the_catalog_reads_it(root: Path) -> None:
    """Rewrites in place (truncate, write in two parts) and by rename race against refreshes: the lesson is
    never lost in between, and once the writer stops its last version is what is loaded."""
    catalog = loaded(root)
    path = root / "a.yaml"
    stop = threading.Event()
    written: list[str] = []

    def writer() -> None:
        for n in range(200):
            text = LESSON.format(id="a", title=f"Version {n}") + "#" * (n % 7) * 50 + "\n"
            if n % 2:
                with path.open("w") as out:
                    out.write(text[: len(text) // 2])
                    out.flush()
                    time.sleep(0.0005)
                    out.write(text[len(text) // 2 :])
            else:
                tmp = root / f".w{n}.tmp"
                tmp.write_text(text)
                os.replace(tmp, path)
            written.append(f"Version {n}")
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    seen: set[str] = set()
    while not stop.is_set():
        catalog.refresh()
        seen.add(catalog.get("a").title.get())  # never UnknownLesson: the last good version stays
    thread.join()
    catalog.refresh(changed={path})  # what a watcher does after the last event
    assert catalog.get("a").title.get() == written[-1] == "Version 199"
    assert catalog.errors == []
    assert len(seen) > 1  # the refreshes really did run while the file changed
