"""What the console needs from its neighbours, as structural types, and how it resolves what was typed.

`bot.core.catalog.Catalog` and `bot.core.runner.Runner` satisfy these; tests may pass small fakes for
a neighbour (never for the console itself).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Protocol

from bot.core.compare import VersionsRunner
from bot.core.errors import LessonError, UnknownExample, UnknownLesson
from bot.core.lessons import Example, Lesson
from bot.core.versions import normalize
from bot.locales import t


class RunnerPort(VersionsRunner, Protocol):
    """Runs (one, or one per version for a comparison), the versions on offer, and a line about the runner."""

    def describe(self) -> str: ...


class ReportPort(Protocol):
    @property
    def loaded(self) -> list[str]: ...

    @property
    def removed(self) -> list[str]: ...

    @property
    def errors(self) -> list[LessonError]: ...


class CatalogPort(Protocol):
    def lessons(self) -> list[Lesson]: ...

    def get(self, lesson_id: str) -> Lesson: ...

    def example(self, lesson_id: str, example_id: str | None = None) -> tuple[Lesson, Example]: ...

    def refresh(self) -> ReportPort: ...

    @property
    def errors(self) -> list[LessonError]: ...


def split_ref(ref: str) -> tuple[str, str | None]:
    """`lesson/example` -> ("lesson", "example"); `lesson` -> ("lesson", None)."""
    lesson_id, _, example_id = ref.strip().partition("/")
    return lesson_id.strip(), (example_id.strip() or None)


def split_python(arg: str) -> tuple[str, str | None]:
    """`lesson/example --python 3.12`, `… python:3.12` or `… 3.12` -> ("lesson/example", "3.12"); without a
    version -> (arg, None).  The version is as typed: the runner says whether it has it."""
    words = arg.split()
    for index, word in enumerate(words):
        if word in {"--python", "-p"} and index + 1 < len(words):
            return " ".join(words[:index] + words[index + 2 :]), words[index + 1]
        if word.startswith(("--python=", "python:", "python=")):
            return " ".join(words[:index] + words[index + 1 :]), word.split(":" if ":" in word else "=", 1)[1]
    if len(words) > 1 and normalize(words[-1]) is not None:
        return " ".join(words[:-1]), words[-1]
    return arg, None


def close_matches(word: str, candidates: Sequence[str], limit: int = 3) -> list[str]:
    found = difflib.get_close_matches(word, candidates, n=limit, cutoff=0.5)
    found += [c for c in candidates if word and word in c and c not in found]
    return found[:limit]


def unknown_message(exc: UnknownLesson | UnknownExample, catalog: CatalogPort, locale: str | None = None) -> str:
    """One line for an unknown id, naming close matches."""
    if isinstance(exc, UnknownExample):
        try:
            ids = [e.id for e in catalog.get(exc.lesson_id).examples]
        except UnknownLesson:
            ids = []
        near = close_matches(exc.example_id, ids) or ids
        text = t(locale, "console.unknown_example", lesson=repr(exc.lesson_id), example=repr(exc.params["example"]))
        return text + (t(locale, "console.its_examples", examples=", ".join(near)) if near else "")
    ids = [lesson.id for lesson in catalog.lessons()]
    near = close_matches(exc.lesson_id, ids)
    lesson = repr(exc.params["lesson"])  # at most a short prefix of what was typed
    if near:
        return t(locale, "console.unknown_lesson_near", lesson=lesson, near=", ".join(near))
    return t(locale, "console.unknown_lesson", lesson=lesson, count=len(ids))


def resolve(catalog: CatalogPort, ref: str) -> tuple[Lesson, Example]:
    """A `lesson[/example]` reference, or a number from the list (1-based), to a lesson and example."""
    lesson_id, example_id = split_ref(ref)
    if lesson_id.isdigit():
        lessons = catalog.lessons()
        index = int(lesson_id)
        if not 1 <= index <= len(lessons):
            raise UnknownLesson(lesson_id)
        lesson_id = lessons[index - 1].id
        if example_id is not None and example_id.isdigit():
            examples = lessons[index - 1].examples
            if 1 <= int(example_id) <= len(examples):
                example_id = examples[int(example_id) - 1].id
    return catalog.example(lesson_id, example_id)
