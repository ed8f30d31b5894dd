"""What the console needs from its neighbours, as structural types.

`bot.core.catalog.Catalog` and `bot.core.runner.Runner` satisfy these; tests may pass small fakes for
a neighbour (never for the console itself).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from bot.core.errors import LessonError, UnknownExample, UnknownLesson
from bot.core.events import Event
from bot.core.lessons import Example, Lesson

log = logging.getLogger(__name__)


class RunHandle(Protocol):
    def __aiter__(self) -> AsyncIterator[Event]: ...

    def cancel(self) -> None: ...


class RunnerPort(Protocol):
    def run(
        self, code: str, *, name: str = "example.py", timeout: float | None = None, owner: int | None = None
    ) -> RunHandle: ...

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


def close_matches(word: str, candidates: Sequence[str], limit: int = 3) -> list[str]:
    found = difflib.get_close_matches(word, candidates, n=limit, cutoff=0.5)
    found += [c for c in candidates if word and word in c and c not in found]
    return found[:limit]


def unknown_message(exc: UnknownLesson | UnknownExample, catalog: CatalogPort) -> str:
    """One line for an unknown id, naming close matches."""
    if isinstance(exc, UnknownExample):
        try:
            ids = [e.id for e in catalog.get(exc.lesson_id).examples]
        except UnknownLesson:
            ids = []
        near = close_matches(exc.example_id, ids) or ids
        hint = f"; its examples: {', '.join(near)}" if near else ""
        return f"lesson {exc.lesson_id!r} has no example {exc.example_id!r}{hint}"
    ids = [lesson.id for lesson in catalog.lessons()]
    near = close_matches(exc.lesson_id, ids)
    if near:
        return f"unknown lesson {exc.lesson_id!r}; did you mean: {', '.join(near)}?"
    return f"unknown lesson {exc.lesson_id!r} ({len(ids)} lessons loaded; `lessons list` shows them)"


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
