"""Hot reload through inotify (real watchfiles, real files): changes go live at once, the polling fallback
works, and stopping leaves no thread behind."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from watchfiles._rust_notify import WatchfilesRustInternalError

from bot.core import catalog as catalog_module
from bot.core import watch as watch_module
from bot.core.catalog import Catalog, LoadReport
from bot.core.watch import Notifier

LESSON = "id: {id}\ntitle: {title}\nexamples:\n  - id: e\n    code: print(1)\n"


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def foreign_threads() -> int:
    """Threads Python did not start: the Rust watcher's own."""
    return os_threads() - threading.active_count()


def watch_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("lesson-watch")]


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    folder.mkdir()
    (folder / "a.yaml").write_text(LESSON.format(id="a", title="First"))
    return folder


class Watching:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.reports: list[LoadReport] = []
        self.changed = asyncio.Event()

    def on_change(self, report: LoadReport) -> None:
        self.reports.append(report)
        self.changed.set()

    async def next_report(self, within: float = 10.0) -> LoadReport:
        """The next report from now on (clear `changed` before the action that causes it)."""
        await asyncio.wait_for(self.changed.wait(), within)
        self.changed.clear()
        return self.reports[-1]


@pytest.fixture
async def watching(root: Path) -> AsyncIterator[Watching]:
    catalog = Catalog(root)
    catalog.load()
    state = Watching(catalog)
    # a 30 s poll interval: anything seen sooner came from inotify
    task = asyncio.create_task(catalog.watch(interval=30, on_change=state.on_change))
    await until(lambda: catalog.watch_mode == "inotify")
    try:
        yield state
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_notifier_reports_a_write_and_close_is_prompt_and_leaves_no_thread(tmp_path: Path) -> None:
    before = foreign_threads()
    notifier = await Notifier.start(tmp_path)
    assert notifier.running and watch_threads() and foreign_threads() > before
    (tmp_path / "x.yaml").write_text("a: 1\n")
    seen: set[str] = set()
    deadline = time.monotonic() + 10
    while str(tmp_path / "x.yaml") not in seen and time.monotonic() < deadline:
        seen |= await notifier.changes(1.0)
    assert str(tmp_path / "x.yaml") in seen
    started = time.monotonic()
    await notifier.close()
    # generous against the 20 ms step, tight against watchfiles.awatch's 5 s wait for its timeout
    assert time.monotonic() - started < 2.0
    assert not notifier.running and watch_threads() == []
    await until(lambda: foreign_threads() == before, within=5)  # the Rust backend's thread ends too


async def test_a_saved_file_goes_live_through_inotify(watching: Watching, root: Path) -> None:
    (root / "a.yaml").write_text(LESSON.format(id="a", title="Edited"))
    report = await watching.next_report()
    assert report.loaded == ["a"] and watching.catalog.get("a").title.get() == "Edited"
    (root / "sub").mkdir()
    (root / "sub" / "b.yaml").write_text(LESSON.format(id="b", title="New"))  # a new subfolder is watched too
    await until(lambda: "b" in watching.catalog)
    (root / "sub" / "b.yaml").write_text(LESSON.format(id="b", title="Newer"))
    await until(lambda: watching.catalog.get("b").title.get() == "Newer")


async def test_a_folder_moved_in_and_a_file_removed_while_watching(
    watching: Watching, root: Path, tmp_path: Path
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "c.yaml").write_text(LESSON.format(id="c", title="Moved in"))
    os.rename(incoming, root / "incoming")  # one event, for the folder: its files are found by a walk
    await until(lambda: "c" in watching.catalog)
    (root / "a.yaml").unlink()
    await until(lambda: "a" not in watching.catalog)
    assert watching.catalog.errors == []


async def test_a_billion_laughs_file_saved_while_watching_costs_nothing(watching: Watching, root: Path) -> None:
    levels = ["id: a", 'title: &l0 "lol"'] + [f"k{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)]
    watching.changed.clear()
    (root / "a.yaml").write_text("\n".join([*levels, "examples: *l9"]) + "\n")
    report = await watching.next_report()
    assert report.kept == ["a"] and watching.catalog.get("a").title.get() == "First"
    assert [(e.line, e.message.split(" here")[0]) for e in report.errors] == [(7, "more than 50,000 values")]
    (root / "a.yaml").write_text(LESSON.format(id="a", title="Fixed"))
    await until(lambda: watching.catalog.get("a").title.get() == "Fixed")


async def test_an_atomic_rename_and_a_same_size_rewrite_go_live(watching: Watching, root: Path) -> None:
    tmp = root / ".a.yaml.swp"
    tmp.write_text(LESSON.format(id="a", title="Renamed"))
    os.replace(tmp, root / "a.yaml")
    await until(lambda: watching.catalog.get("a").title.get() == "Renamed")
    # same size, same second: the stamp may not change, the inotify event still counts
    stamp = (root / "a.yaml").stat()
    (root / "a.yaml").write_text(LESSON.format(id="a", title="Renamee"))
    os.utime(root / "a.yaml", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    await until(lambda: watching.catalog.get("a").title.get() == "Renamee")


async def test_the_folder_removed_and_back_while_watching(root: Path) -> None:
    (root / "b.yaml").write_text(LESSON.format(id="b", title="Second"))
    catalog = Catalog(root)
    catalog.load()
    watching = Watching(catalog)
    task = asyncio.create_task(catalog.watch(interval=0.3, on_change=watching.on_change))
    try:
        await until(lambda: catalog.watch_mode == "inotify")
        shutil.rmtree(root)
        report = await watching.next_report()
        assert [e.message for e in report.errors] == [
            "the lessons folder does not exist; keeping the 2 lesson(s) loaded before"
        ]
        assert sorted(lesson.id for lesson in catalog.lessons()) == ["a", "b"]
        assert [e.message for e in catalog.errors] == [e.message for e in report.errors]  # /reload shows it
        await until(lambda: catalog.watch_mode == "polling")  # inotify followed the old folder: dropped
        os.mkdir(root)
        (root / "a.yaml").write_text(LESSON.format(id="a", title="Back"))
        await until(lambda: catalog.watch_mode == "inotify" and "b" not in catalog)
        assert catalog.get("a").title.get() == "Back" and catalog.errors == []
        (root / "c.yaml").write_text(LESSON.format(id="c", title="Third"))
        await until(lambda: "c" in catalog)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_cancelling_the_watch_is_prompt_and_leaves_no_thread(root: Path) -> None:
    before = foreign_threads()
    catalog = Catalog(root)
    catalog.load()
    task = asyncio.create_task(catalog.watch())
    await until(lambda: catalog.watch_mode == "inotify")
    assert watch_threads()
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2.0
    assert watch_threads() == [] and catalog.watch_mode is None
    await until(lambda: foreign_threads() == before, within=5)


async def test_without_inotify_it_polls_and_tries_inotify_again_later(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = watch_module.RustNotify
    attempts: list[str] = []

    def unavailable(*args: object) -> object:
        attempts.append("tried")
        if len(attempts) == 1:  # as watchfiles reports it when inotify_init fails
            raise WatchfilesRustInternalError("Error creating watcher: Too many open files (os error 24)")
        return real(*args)

    monkeypatch.setattr(watch_module, "RustNotify", unavailable)
    monkeypatch.setattr(catalog_module, "NOTIFY_RETRY_SECONDS", 1.0)
    catalog = Catalog(root)
    catalog.load()
    state = Watching(catalog)
    task = asyncio.create_task(catalog.watch(interval=0.05, on_change=state.on_change))
    try:
        await until(lambda: catalog.watch_mode == "polling")
        (root / "a.yaml").write_text(LESSON.format(id="a", title="Polled"))
        await until(lambda: catalog.get("a").title.get() == "Polled")
        await until(lambda: catalog.watch_mode == "inotify")  # the retry worked
        assert len(attempts) == 2
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_notify_false_polls_only(root: Path) -> None:
    before = foreign_threads()
    catalog = Catalog(root)
    catalog.load()
    state = Watching(catalog)
    task = asyncio.create_task(catalog.watch(interval=0.05, on_change=state.on_change, notify=False))
    try:
        await until(lambda: catalog.watch_mode == "polling")
        assert watch_threads() == [] and foreign_threads() <= before
        (root / "b.yaml").write_text(LESSON.format(id="b", title="Polled"))
        assert (await state.next_report()).loaded == ["b"]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
