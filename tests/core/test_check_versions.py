"""`lessons check` with several Pythons: an example runs on each version it declares that is installed (against
its `expect.by_version`), the missing ones are skipped by name, a quiz question uses the version a learner's run
gets, and the totals are given per version.  The runner is a scripted neighbour that answers by version."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.check import check_lessons
from bot.core.events import Event, Finished, Output, Started, Status
from bot.core.versions import Pythons

PYTHONS = Pythons("3.11", (("3.11", "3.11.7"), ("3.12", "3.12.1")))

LESSON = """\
id: versions
title: Versions
requires_python: ">=3.11"
examples:
  - id: eager
    versions: ["3.11", "3.12", "3.14"]
    compare: true
    code: print("which")
    expect:
      output: [lazy]
      by_version:
        "3.12": {output: [eager], note: "3.12 is eager"}
  - id: plain
    code: print("plain")
    expect:
      output: [plain]
  - id: newest
    versions: ["3.12", "3.14"]
    code: print("newest")
  - id: future
    versions: ["3.14"]
    code: print("future")
quiz:
  - id: what
    type: predict_output
    example: newest
    prompt: What does it print?
    explanation: its version
    answer: ["3.12", "done"]
  - id: gone
    type: predict_output
    example: future
    prompt: What does it print?
    explanation: nothing here
    answer: [a, b]
"""


class VersionedRunner:
    """Prints what each version would: `eager` is lazy on 3.11 (the default), eager on 3.12; `newest` names its
    version."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str | None]] = Counter()

    def run(
        self,
        code: str,
        *,
        name: str = "example.py",
        timeout: float | None = None,
        owner: int | None = None,
        python: str | None = None,
    ) -> AsyncIterator[Event]:
        self.calls[name, python] += 1
        lines = {"eager.py": ["lazy" if python in (None, "3.11") else "eager"], "newest.py": [str(python), "done"]}
        return self._events(lines.get(name, ["plain"]))

    async def _events(self, lines: list[str]) -> AsyncIterator[Event]:
        yield Started()
        for index, line in enumerate(lines):
            yield Output("stdout", line, t=index * 0.001)
        yield Finished(Status.OK, 0.01)


async def test_each_declared_version_runs_against_its_own_expect(tmp_path: Path) -> None:
    (tmp_path / "versions.yaml").write_text(LESSON, encoding="utf-8")
    runner = VersionedRunner()
    lines: list[str] = []
    summary = await check_lessons(Catalog(tmp_path), runner, out=lines.append, pythons=PYTHONS)
    assert lines == [
        "PASS  versions/eager @3.11  0.010s",
        "PASS  versions/eager @3.12  0.010s",  # against by_version's [eager]
        "SKIP  versions/eager @3.14  Python 3.14 is not installed here",
        "PASS  versions/plain  0.010s",  # no versions: the default, named as before
        "PASS  versions/newest @3.12  0.010s",
        "SKIP  versions/newest @3.14  Python 3.14 is not installed here",
        "SKIP  versions/future @3.14  Python 3.14 is not installed here",
        "PASS  versions/quiz/what  predict_output: the answer's 2 lines match the run",  # on 3.12, newest here
        "SKIP  versions/quiz/gone  its example runs on Python 3.14, not installed here",
        "5 passed, 0 failed, 4 skipped, 0 load errors",
        "python 3.11: 2 passed, 0 failed, 0 skipped · python 3.12: 3 passed, 0 failed, 0 skipped"
        " · python 3.14: 0 passed, 0 failed, 3 skipped",
    ]
    assert summary.exit_code == 0
    assert runner.calls == Counter(
        {("eager.py", "3.11"): 1, ("eager.py", "3.12"): 1, ("plain.py", "3.11"): 1, ("newest.py", "3.12"): 1}
    )


async def test_a_version_that_prints_otherwise_fails_by_name(tmp_path: Path) -> None:
    text = LESSON.replace('"3.12": {output: [eager], note: "3.12 is eager"}', '"3.12": {note: "same"}')
    (tmp_path / "versions.yaml").write_text(text, encoding="utf-8")
    lines: list[str] = []
    summary = await check_lessons(Catalog(tmp_path), VersionedRunner(), out=lines.append, pythons=PYTHONS)
    assert "FAIL  versions/eager @3.12  output line 1: expected 'lazy', got 'eager'" in lines
    assert summary.by_version["3.12"] == [2, 1, 0] and summary.exit_code == 1  # newest and its question pass


async def test_without_versions_known_it_runs_as_before(tmp_path: Path) -> None:
    (tmp_path / "versions.yaml").write_text(LESSON, encoding="utf-8")
    runner = VersionedRunner()
    lines: list[str] = []
    await check_lessons(Catalog(tmp_path), runner, out=lines.append)  # no pythons: the runner's default, once
    assert set(runner.calls) == {("eager.py", None), ("plain.py", None), ("newest.py", None), ("future.py", None)}
    assert lines[0] == "PASS  versions/eager  0.010s" and not any("@" in line for line in lines)
