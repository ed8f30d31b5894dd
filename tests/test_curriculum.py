"""The course in `lessons/`: what every lesson must carry (issue: the curriculum).

The examples' real output and timing and every predict question's answer are checked by running them:
`corobot lessons check lessons/ --require-locales en,zh-CN` (CI runs it after pytest).  This file checks
the coverage statically, so a lesson that drops a language, its `expect` or its quiz fails here fast.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.catalog import Catalog
from bot.core.check import locale_problems
from bot.core.lessons import PredictOutputQuestion, PredictTimeQuestion

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
LOCALES = ("en", "zh-CN")
LEVELS = {"beginner": 0, "intermediate": 1, "advanced": 2}

# The course's topics (the curriculum issue's list), each the lesson that teaches it.
COURSE = [
    "coroutine-objects",
    "sequential-vs-concurrent",
    "task-lifetime",
    "gather-vs-taskgroup",
    "exception-groups",
    "blocking-the-loop",
    "to-thread",
    "cancellation",
    "timeouts",
    "shield",
    "as-completed-wait",
    "semaphore",
    "sync-primitives",
    "queues",
    "async-context-iterators",
    "contextvars",
    "debugging-asyncio",
    "how-corobot-works",
    "event-loop-internals",
    "streams-and-subprocesses",
    "loop-from-threads",
    "graceful-shutdown",
    "running-loop-errors",
    "taskgroup-gather-in-depth",
    "eager-tasks-barrier-futures",
    "testing-async-code",
]
# The seed tutorial's sections (../shared/seed/python-coroutines-tutorial.zh.md), in its order.
SEED = [
    "define-coroutine",
    "run-coroutine",
    "await-keyword",
    "create-task",
    "task-results",
    "call-from-sync",
    "tasks-concurrency",
    "timeouts-wait-for",
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    catalog = Catalog(LESSONS)
    catalog.load()
    return catalog


def test_every_file_loads(catalog: Catalog) -> None:
    assert [str(error) for error in catalog.errors] == []
    files = sorted(LESSONS.rglob("*.yaml"))
    assert len(catalog.lessons()) == len(files)


def test_the_seed_and_every_course_topic_are_lessons(catalog: Catalog) -> None:
    ids = {lesson.id for lesson in catalog.lessons()}
    assert [topic for topic in SEED + COURSE if topic not in ids] == []


def test_every_text_field_is_in_both_languages(catalog: Catalog) -> None:
    problems = [
        str(problem)
        for lesson in catalog.lessons()
        for problem in locale_problems(lesson, catalog.locator(lesson.id), LOCALES)
    ]
    assert problems == []


@pytest.mark.parametrize("lesson_id", SEED + COURSE)
def test_lesson_coverage(catalog: Catalog, lesson_id: str) -> None:
    lesson = catalog.get(lesson_id)
    assert lesson.id == lesson_id
    assert lesson.summary is not None
    assert lesson.level is not None
    assert lesson.tags, "tags"
    assert lesson.objectives, "learning objectives"
    assert lesson.key_points, "key points"
    assert lesson.sections, "explanation sections"

    checked = [e for e in lesson.examples if e.expect and e.expect.output is not None and e.expect.elapsed]
    assert checked, "at least one example whose output and elapsed time are checked"

    assert len(lesson.quiz) >= 3, f"{len(lesson.quiz)} quiz questions"
    example_ids = {example.id for example in lesson.examples}
    predicts = [q for q in lesson.quiz if isinstance(q, PredictOutputQuestion | PredictTimeQuestion) and q.example]
    assert predicts, "a predict_output or predict_time question tied to an example"
    assert all(q.example in example_ids for q in predicts)
    for question in lesson.quiz:
        for locale in LOCALES:
            assert question.explanation.get(locale).strip(), f"{question.id}: explanation ({locale})"


def test_list_order_puts_prerequisites_first(catalog: Catalog) -> None:
    order = [lesson.id for lesson in catalog.lessons()]
    for position, lesson in enumerate(catalog.lessons()):
        for prerequisite in lesson.prerequisites:
            assert order.index(prerequisite) < position, f"{lesson.id} listed before {prerequisite}"
    with_prerequisites = [lesson for lesson in catalog.lessons() if lesson.prerequisites]
    assert len(with_prerequisites) >= len(COURSE), "the course is a path: its lessons name what comes first"


def test_no_lesson_requires_a_harder_one(catalog: Catalog) -> None:
    harder = [
        f"{lesson.id} ({lesson.level}) requires {required.id} ({required.level})"
        for lesson in catalog.lessons()
        for required in map(catalog.get, lesson.prerequisites)
        if LEVELS[required.level or "beginner"] > LEVELS[lesson.level or "beginner"]
    ]
    assert harder == []
