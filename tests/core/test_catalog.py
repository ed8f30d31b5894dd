"""Catalog: loading real files, every error kind with file:line, hot reload, prerequisite order."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from bot.core.catalog import Catalog, LoadReport
from bot.core.errors import UnknownExample, UnknownLesson


def lesson(lesson_id: str, *, title: str = "A title", prerequisites: tuple[str, ...] = (), extra: str = "") -> str:
    pre = f"prerequisites: [{', '.join(prerequisites)}]\n" if prerequisites else ""
    return (
        f"id: {lesson_id}\n"
        f"title: {title}\n"
        f"{pre}"
        "examples:\n"
        "  - id: first\n"
        "    code: |\n"
        "      import asyncio\n"
        "      asyncio.run(asyncio.sleep(0))\n"
        f"{extra}"
    )


def write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    old = path.stat().st_mtime_ns if existed else 0
    path.write_text(text, encoding="utf-8")
    if existed:  # a rewrite within the filesystem's timestamp granularity must still count as a change
        os.utime(path, ns=(old + 1_000_000_000, old + 1_000_000_000))
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "lessons"
    write(folder, "good.yaml", lesson("good"))
    return folder


QUIZ_HEAD = lesson("bad") + "quiz:\n"
BAD_FILES = {
    # name: (file text, line, column, text the reason must contain)
    "malformed yaml": ("id: bad\ntitle: [unclosed\nexamples: []\n", 3, 9, "invalid YAML"),
    "wrong type": (
        lesson("bad") + "    timeout: soon\n",
        8,
        14,
        "examples.0.timeout: expected a number, got the string 'soon'",
    ),
    "wrong text type": (
        lesson("bad", title="[1, 2]"),
        2,
        8,
        "title: expected text: a string, or a mapping of language",
    ),
    "missing field": ("id: bad\ntitle: Bad\n", 1, 1, "missing required key 'examples'"),
    "missing nested field": (
        "id: bad\ntitle: Bad\nexamples:\n  - id: e\n",
        4,
        5,
        "missing required key 'code' in examples.0",
    ),
    "unknown key": (
        lesson("bad") + "exampels: []\n",
        8,
        1,
        "unknown key 'exampels' (did you mean 'examples'?); allowed keys: id,",
    ),
    "duplicate key": (
        "id: bad\ntitle: One\ntitle: Two\n",
        3,
        1,
        "found duplicate key 'title' (first defined on line 2)",
    ),
    "list document": ("- id: bad\n- title: Bad\n", 1, 1, "a lesson file must be a mapping"),
    "scalar document": ("just some words\n", 1, 1, "a lesson file must be a mapping"),
    "empty file": ("", 1, 1, "the file is empty"),
    "bad id": (lesson("Bad Lesson"), 1, 5, "'Bad Lesson' is not a valid id: use lowercase letters"),
    "code syntax error": (
        "id: bad\ntitle: Bad\nexamples:\n  - id: e\n    code: |\n      import asyncio\n\n"
        "      async def main():\n          print('x'\n\n      asyncio.run(main())\n",
        9,
        16,
        "examples.0.code: syntax error in the code, its line 4: '(' was never closed: print('x'",
    ),
    "answer not among choices": (
        QUIZ_HEAD + "  - id: q\n    type: choice\n    prompt: Which?\n    explanation: Because.\n"
        "    choices: [one, two]\n    answer: three\n",
        14,
        13,
        "quiz.0.answer: answer 'three' is not among the choices ['one', 'two']",
    ),
    "hints cost more than points": (
        QUIZ_HEAD + "  - id: q\n    type: text\n    prompt: What?\n    explanation: Because.\n    answers: [x]\n"
        "    points: 3\n    hints:\n      - {text: a hint, cost: 2}\n      - {text: another, cost: 2}\n",
        16,
        7,
        "quiz.0.hints: hints cost 4 points in total but the question is worth only 3",
    ),
    "question names a missing example": (
        QUIZ_HEAD + "  - id: q\n    type: predict_time\n    prompt: How long?\n    explanation: Because.\n"
        "    answer: 1.0\n    example: nope\n",
        14,
        14,
        "quiz.0.example: question 'q' names example 'nope', which this lesson lacks (it has: first)",
    ),
    "section names a missing example": (
        lesson("bad") + "sections:\n  - title: T\n    body: B\n    example: nope\n",
        11,
        14,
        "sections.0.example: section 1 names example 'nope', which this lesson lacks (it has: first)",
    ),
    "unknown question type": (QUIZ_HEAD + "  - id: q\n    type: essay\n", 10, 11, "quiz.0.type: unknown type 'essay'"),
    "unknown key in a question": (
        QUIZ_HEAD + "  - id: q\n    type: text\n    prompt: P\n    explanation: E\n    answers: [x]\n    text: extra\n",
        14,
        5,
        "unknown key 'text' in quiz.0; allowed keys: id, prompt",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_each_error_names_file_line_and_reason_while_the_rest_loads(root: Path, case: str) -> None:
    text, line, column, reason = BAD_FILES[case]
    bad = write(root, "sub/bad.yaml", text)
    catalog = Catalog(root)
    report = catalog.load()
    assert [lesson.id for lesson in catalog.lessons()] == ["good"]
    assert report.loaded == ["good"]
    assert len(report.errors) == 1, [str(e) for e in report.errors]
    error = report.errors[0]
    assert (error.path, error.line, error.column) == (str(bad), line, column), str(error)
    assert str(error).startswith(f"{bad}:{line}:{column}: ")
    assert reason in error.message
    assert [str(e) for e in catalog.errors] == [str(error)]
    assert not report.ok


def test_quiz_errors_never_show_pydantic_union_tags(root: Path) -> None:
    write(root, "bad.yaml", BAD_FILES["answer not among choices"][0].replace("answer: three", "answer: 5"))
    report = Catalog(root).load()
    assert [e.message for e in report.errors] == ["quiz.0.answer: expected a string or a list, got 5"]


def test_not_utf8_is_reported_with_its_position(root: Path) -> None:
    (root / "latin1.yaml").write_bytes(b"id: bad\ntitle: caf\xe9\n")
    report = Catalog(root).load()
    assert [str(e) for e in report.errors] == [
        f"{root / 'latin1.yaml'}:2:11: the file is not UTF-8 text; save it as UTF-8"
    ]


def test_duplicate_ids_name_both_files_and_the_first_stays(root: Path) -> None:
    first = write(root, "a/one.yaml", lesson("same", title="First"))
    second = write(root, "b/two.yaml", lesson("same", title="Second"))
    catalog = Catalog(root)
    report = catalog.load()
    assert catalog.get("same").title.get() == "First"
    assert catalog.source("same") == first
    assert [str(e) for e in report.errors] == [
        f"{second}:1:5: duplicate lesson id 'same': {first}:1 already defines it, so this file is not loaded; "
        "give one of them another id"
    ]
    # editing the second file does not steal the id from the one already loaded
    write(root, "b/two.yaml", lesson("same", title="Second, edited"))
    report = catalog.refresh()
    assert catalog.get("same").title.get() == "First"
    assert "duplicate lesson id 'same'" in report.errors[0].message
    # once the first file is gone, the second one takes the id
    first.unlink()
    report = catalog.refresh()
    assert catalog.get("same").title.get() == "Second, edited"
    assert report.loaded == ["same"] and report.removed == [] and report.ok
    assert catalog.errors == []


def test_subfolders_are_scanned_and_hidden_or_other_files_ignored(root: Path) -> None:
    write(root, "deep/er/nested.yml", lesson("nested"))
    write(root, ".hidden/secret.yaml", lesson("hidden"))
    write(root, ".draft.yaml", "not: valid: yaml: [")
    write(root, "notes.txt", "not a lesson")
    write(root, "lesson.schema.json", "{}")
    catalog = Catalog(root)
    assert catalog.load().ok
    assert sorted(lesson.id for lesson in catalog.lessons()) == ["good", "nested"]


def test_missing_root_is_an_error_not_a_crash(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "nowhere")
    report = catalog.load()
    assert catalog.lessons() == []
    assert [e.message for e in report.errors] == ["the lessons folder does not exist"]


def test_queries(root: Path) -> None:
    write(root, "x.yaml", lesson("tasks-intro", title='"Tasks: a first look"') + "  - id: second\n    code: print(2)\n")
    write(root, "y.yaml", lesson("gather", title="{en: Gather many tasks, zh-CN: 收集任务}"))
    catalog = Catalog(root)
    catalog.load()
    assert len(catalog) == 3 and "gather" in catalog and "nope" not in catalog
    found_lesson, example = catalog.example("tasks-intro")
    assert (found_lesson.id, example.id) == ("tasks-intro", "first")
    assert catalog.example("tasks-intro", "second")[1].id == "second"
    with pytest.raises(UnknownLesson):
        catalog.get("nope")
    with pytest.raises(UnknownExample):
        catalog.example("tasks-intro", "third")
    with pytest.raises(UnknownLesson):
        catalog.source("nope")
    assert catalog.source("gather") == root / "y.yaml"
    assert catalog.locator("gather").locate(("title",)) == (2, 8)
    assert [x.id for x in catalog.search("task")] == ["tasks-intro", "gather"]  # prefix match first
    assert [x.id for x in catalog.search("收集", locale="zh-CN")] == ["gather"]
    assert [x.id for x in catalog.search("GATHER")] == ["gather"]
    assert len(catalog.search("", limit=2)) == 2


# --- hot reload ---------------------------------------------------------------------------------------


def test_refresh_without_changes_reads_nothing(root: Path) -> None:
    catalog = Catalog(root)
    catalog.load()
    before = catalog.get("good")
    report = catalog.refresh()
    assert report == LoadReport() and not report.changed
    assert catalog.get("good") is before  # not re-parsed


def test_refresh_picks_up_a_changed_file(root: Path) -> None:
    catalog = Catalog(root)
    catalog.load()
    write(root, "good.yaml", lesson("good", title="Retitled"))
    report = catalog.refresh()
    assert (report.loaded, report.removed, report.errors) == (["good"], [], [])
    assert catalog.get("good").title.get() == "Retitled"


def test_refresh_picks_up_an_added_file(root: Path) -> None:
    catalog = Catalog(root)
    catalog.load()
    write(root, "more/new.yaml", lesson("new"))
    report = catalog.refresh()
    assert (report.loaded, report.removed) == (["new"], [])
    assert catalog.get("new").id == "new"


def test_refresh_drops_a_removed_file(root: Path) -> None:
    extra = write(root, "extra.yaml", lesson("extra"))
    catalog = Catalog(root)
    catalog.load()
    extra.unlink()
    report = catalog.refresh()
    assert (report.loaded, report.removed) == ([], ["extra"])
    with pytest.raises(UnknownLesson):
        catalog.get("extra")


def test_a_file_that_became_invalid_keeps_its_last_good_version(root: Path) -> None:
    catalog = Catalog(root)
    catalog.load()
    path = write(root, "good.yaml", lesson("good", title="Broken now") + "surprise: 1\n")
    report = catalog.refresh()
    assert report.kept == ["good"] and report.loaded == [] and report.removed == []
    assert len(report.errors) == 1
    assert str(report.errors[0]).startswith(f"{path}:8:1: unknown key 'surprise'; allowed keys: id, title,")
    assert catalog.get("good").title.get() == "A title"  # the last good version
    assert [e.line for e in catalog.errors] == [8]
    # fixing it loads the new version and clears the error
    write(root, "good.yaml", lesson("good", title="Fixed"))
    report = catalog.refresh()
    assert report.loaded == ["good"] and report.ok
    assert catalog.get("good").title.get() == "Fixed"
    assert catalog.errors == []


def test_a_changed_id_is_reported_as_loaded_and_removed(root: Path) -> None:
    catalog = Catalog(root)
    catalog.load()
    write(root, "good.yaml", lesson("renamed"))
    report = catalog.refresh()
    assert (report.loaded, report.removed) == (["renamed"], ["good"])


def test_renaming_to_an_id_in_use_keeps_the_last_good_version_until_the_id_is_free(root: Path) -> None:
    other = write(root, "other.yaml", lesson("taken", title="Other"))
    catalog = Catalog(root)
    catalog.load()
    path = write(root, "good.yaml", lesson("taken", title="Renamed"))
    report = catalog.refresh()
    assert report.kept == ["good"] and report.loaded == [] and report.removed == []
    assert catalog.get("good").title.get() == "A title" and catalog.get("taken").title.get() == "Other"
    assert [str(e) for e in report.errors] == [
        f"{path}:1:5: duplicate lesson id 'taken': {other}:1 already defines it, so this file keeps its last "
        "good version ('good'); give one of them another id"
    ]
    assert [str(e) for e in catalog.errors] == [str(e) for e in report.errors]
    # once the other file is gone, the new version takes its id
    other.unlink()
    report = catalog.refresh()
    assert (report.loaded, sorted(report.removed)) == (["taken"], ["good"])
    assert catalog.get("taken").title.get() == "Renamed" and "good" not in catalog
    assert catalog.errors == []


async def test_watch_polls_and_reports_changes(root: Path) -> None:
    catalog = Catalog(root)
    catalog.load()
    reports: list[LoadReport] = []
    changed = asyncio.Event()

    def on_change(report: LoadReport) -> None:
        reports.append(report)
        changed.set()

    watcher = asyncio.create_task(catalog.watch(interval=0.02, on_change=on_change))
    try:
        await asyncio.sleep(0.1)
        assert reports == []  # nothing changed yet: no callback
        write(root, "added.yaml", lesson("added"))
        await asyncio.wait_for(changed.wait(), timeout=10)
        assert reports[0].loaded == ["added"]
        assert catalog.get("added").id == "added"
    finally:
        watcher.cancel()
        with pytest.raises(asyncio.CancelledError):
            await watcher


# --- prerequisite order -------------------------------------------------------------------------------


def test_lessons_come_in_prerequisite_order_then_path_order(tmp_path: Path) -> None:
    root = tmp_path / "lessons"
    write(root, "1-advanced.yaml", lesson("advanced", prerequisites=("middle", "basics")))
    write(root, "2-middle.yaml", lesson("middle", prerequisites=("basics",)))
    write(root, "3-basics.yaml", lesson("basics"))
    write(root, "0-standalone.yaml", lesson("standalone"))
    write(root, "4-other.yaml", lesson("other", prerequisites=("basics",)))
    catalog = Catalog(root)
    assert catalog.load().ok
    assert [x.id for x in catalog.lessons()] == ["standalone", "basics", "middle", "advanced", "other"]


def test_unknown_prerequisites_are_errors_of_that_file(tmp_path: Path) -> None:
    root = tmp_path / "lessons"
    write(root, "a.yaml", lesson("basics"))
    path = write(root, "b.yaml", lesson("next", prerequisites=("basic", "basics")))
    catalog = Catalog(root)
    report = catalog.load()
    assert [str(e) for e in report.errors] == [
        f"{path}:3:17: unknown prerequisite 'basic': no lesson has that id (did you mean 'basics'?)"
    ]
    assert [x.id for x in catalog.lessons()] == ["basics", "next"]  # still loaded, still after its known one
    # the error is not repeated by a refresh that changes nothing, but stays in `errors`
    assert catalog.refresh().errors == [] and len(catalog.errors) == 1
    write(root, "c.yaml", lesson("basic"))
    assert catalog.refresh().errors == [] and catalog.errors == []


def test_prerequisite_cycles_are_reported_and_the_lessons_still_listed(tmp_path: Path) -> None:
    root = tmp_path / "lessons"
    write(root, "a.yaml", lesson("egg", prerequisites=("chicken",)))
    write(root, "b.yaml", lesson("chicken", prerequisites=("egg",)))
    write(root, "c.yaml", lesson("free"))
    catalog = Catalog(root)
    report = catalog.load()
    assert [x.id for x in catalog.lessons()] == ["free", "egg", "chicken"]
    assert [(Path(e.path).name, e.line) for e in report.errors] == [("a.yaml", 3), ("b.yaml", 3)]
    assert all("prerequisites form a cycle" in e.message for e in report.errors)
