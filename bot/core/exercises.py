"""Grading an exercise: a learner's code, run for real, against the exercise's `check`.

A check is made of the same pieces as a lesson example's `expect` — the run's status, its elapsed time within a
tolerance, its stdout lines — plus names the code must use or must not use, found on its syntax tree.  Each
piece becomes a `Part` that passed or failed, so a front-end shows which parts passed (with the run's timeline)
and the learner knows what to change.  `grade()` is pure: it takes the finished `RunRecord` and the code.

Names are matched after resolving imports: `import time as t; t.sleep(1)` and `from time import sleep;
sleep(1)` both use `time.sleep`.  A rule without a dot (`create_task`) matches that name on any object
(`asyncio.create_task`, `tg.create_task`, `loop.create_task`) or imported bare; a dotted rule (`time.sleep`)
matches that module's attribute.  This is a teaching check, not a security boundary: `getattr(time, "sleep")`
gets past it, and the run's timing usually tells on it anyway.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from bot.core.errors import CorobotError, UnknownLesson, quoted
from bot.core.lessons import Exercise, Lesson
from bot.core.record import RunRecord, Verdict

log = logging.getLogger(__name__)

PartKind = Literal["status", "elapsed", "output", "must_use", "must_not_use"]
MAX_NODES = 200_000  # syntax-tree nodes looked at; a submission is at most a few thousand characters anyway


class UnknownExercise(CorobotError):
    def __init__(self, lesson_id: str, exercise_id: str | None, known: Iterable[str] = ()) -> None:
        self.lesson_id = lesson_id
        self.exercise_id = exercise_id
        names = list(known)
        if exercise_id is None or not names:
            super().__init__(message_id="exercise.none_in_lesson", params={"lesson": lesson_id})
        else:
            super().__init__(
                message_id="exercise.unknown",
                params={"lesson": lesson_id, "exercise": quoted(exercise_id), "known": names},
            )


@dataclass(frozen=True, slots=True)
class Part:
    """One piece of the check: what it asked, whether the run met it."""

    kind: PartKind
    ok: bool
    name: str = ""  # must_use / must_not_use: the rule's name


@dataclass(frozen=True, slots=True)
class Grade:
    verdict: Verdict  # status, elapsed, output, as for a lesson example
    parts: tuple[Part, ...]
    syntax_error: bool = False  # the code did not parse: the name checks could not look at it

    @property
    def passed(self) -> bool:
        return all(part.ok for part in self.parts)

    @property
    def failed(self) -> tuple[Part, ...]:
        return tuple(part for part in self.parts if not part.ok)


def find_exercise(lessons: Iterable[Lesson], lesson_id: str, exercise_id: str | None) -> tuple[Lesson, Exercise]:
    """The lesson and its exercise (the first when `exercise_id` is None); raises `UnknownLesson` /
    `UnknownExercise`."""
    lesson = next((x for x in lessons if x.id == lesson_id), None)
    if lesson is None:
        raise UnknownLesson(lesson_id)
    exercise = lesson.exercise(exercise_id)
    if exercise is None:
        raise UnknownExercise(lesson.id, exercise_id, [x.id for x in lesson.exercises])
    return lesson, exercise


def exercise_ref(lesson: Lesson, exercise: Exercise) -> str:
    return f"{lesson.id}/{exercise.id}"


def run_name(exercise: Exercise) -> str:
    """The file name a submission runs as (its traceback says `File "three-downloads.py"`)."""
    return f"{exercise.id}.py"


def grade(exercise: Exercise, record: RunRecord, code: str) -> Grade:
    """Which parts of `exercise.check` the finished run of `code` met."""
    check = exercise.check
    verdict = record.verdict(check)
    parts = [Part("status", verdict.status_ok)]
    if check.elapsed is not None:
        parts.append(Part("elapsed", verdict.elapsed_ok is True))
    if check.output is not None:
        parts.append(Part("output", verdict.output_ok is True))
    used = names_used(code)
    syntax_error = used is None
    found = used or set()
    parts.extend(Part("must_use", uses(found, name), name) for name in check.must_use)
    parts.extend(Part("must_not_use", not syntax_error and not uses(found, name), name) for name in check.must_not_use)
    return Grade(verdict, tuple(parts), syntax_error)


def uses(found: set[str], rule: str) -> bool:
    """Whether the resolved names `found` satisfy `rule` (see the module docstring)."""
    if "." in rule:
        return rule in found or any(name.endswith("." + rule) for name in found)
    return any(name == rule or name.endswith("." + rule) for name in found)


def names_used(code: str) -> set[str] | None:
    """Every dotted name the code refers to, with imports resolved; None when it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    aliases: dict[str, str] = {}
    nodes = list(_walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Attribute | ast.Name):
            dotted = _dotted(node)
            if dotted is not None:
                head, _, rest = dotted.partition(".")
                resolved = aliases.get(head, head)
                found.add(f"{resolved}.{rest}" if rest else resolved)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _walk(tree: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk`, bounded."""
    for count, node in enumerate(ast.walk(tree)):
        if count >= MAX_NODES:
            log.info("a submission's syntax tree has over %d nodes; looked at the first ones only", MAX_NODES)
            return
        yield node


def _dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of attributes on a name (`x().y` and subscripts have none: their attribute counts)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif parts:
        parts.append("")  # `something().attr`: the attribute on an unnamed object
    else:
        return None
    return ".".join(reversed(parts))
