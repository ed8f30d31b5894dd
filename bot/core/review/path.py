"""Where a learner stands on the course's prerequisite graph, and which lesson to take next and why.

A lesson is **done** when every one of its examples was run and the share of its questions whose latest
answer was right reaches the mastery threshold (80 % by default; a question never answered counts as not
right, a lesson without questions needs only its runs).  Once done, a lesson stays done.  A lesson is **in
progress** once anything in it was run or answered, **available** when all its prerequisites are done, else
**locked**.

The **next** lesson is one not done whose prerequisites are all done: one already started first, then one
about the learner's weakest topic, then the course order.  A topic is a lesson tag (or its level when it
has none); its mastery is the share of right latest answers over the questions of its lessons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.core.lessons import Lesson

Status = Literal["done", "in_progress", "available", "locked"]
Results = Mapping[tuple[str, str], bool | None]  # (lesson, question) -> latest answer right? (None: not yet)


@dataclass(frozen=True, slots=True)
class LessonStanding:
    lesson_id: str
    status: Status
    examples_run: int
    examples: int
    right: int  # questions whose latest answer was right
    answered: int
    questions: int
    missing: tuple[str, ...] = ()  # prerequisites not done yet

    @property
    def mastery(self) -> float | None:
        return self.right / self.questions if self.questions else None


@dataclass(frozen=True, slots=True)
class Recommendation:
    lesson_id: str
    prerequisites: tuple[str, ...]  # all done: the first reason
    started: bool
    weakest_topic: str | None = None  # set when the lesson is about the learner's weakest topic
    topic_mastery: float | None = None


@dataclass(slots=True)
class LearnerPath:
    lessons: list[LessonStanding]  # in course order
    next: Recommendation | None
    topics: dict[str, float] = field(default_factory=dict)  # topic -> mastery, weakest first
    newly_done: list[str] = field(default_factory=list)  # done now by the rule, not recorded before

    def with_status(self, status: Status) -> list[LessonStanding]:
        return [s for s in self.lessons if s.status == status]

    @property
    def done(self) -> int:
        return len(self.with_status("done"))

    def standing(self, lesson_id: str) -> LessonStanding | None:
        return next((s for s in self.lessons if s.lesson_id == lesson_id), None)


def topics_of(lesson: Lesson) -> list[str]:
    return list(lesson.tags) or [lesson.level or "general"]


def meets_mastery(lesson: Lesson, ran: set[str], results: Results, mastery: float) -> bool:
    if any(example.id not in ran for example in lesson.examples):
        return False
    if not lesson.quiz:
        return True
    right = sum(results.get((lesson.id, q.id)) is True for q in lesson.quiz)
    return right >= mastery * len(lesson.quiz) - 1e-9


def topic_mastery(lessons: Sequence[Lesson], results: Results) -> dict[str, float]:
    """Mastery of every topic with at least one answer, weakest first (ties by name)."""
    counts: dict[str, list[int]] = {}
    for lesson in lessons:
        for question in lesson.quiz:
            result = results.get((lesson.id, question.id))
            if result is None:
                continue
            for topic in topics_of(lesson):
                right_answered = counts.setdefault(topic, [0, 0])
                right_answered[0] += result
                right_answered[1] += 1
    shares = {topic: right / answered for topic, (right, answered) in counts.items()}
    return dict(sorted(shares.items(), key=lambda item: (item[1], item[0])))


def build_path(
    lessons: Sequence[Lesson],
    ran: Mapping[str, set[str]],
    results: Results,
    done: Mapping[str, float] | set[str],
    mastery: float,
) -> LearnerPath:
    """The learner's standing on `lessons` (prerequisites first, as the catalog orders them)."""
    known = {lesson.id for lesson in lessons}
    finished = set(done)
    newly = [
        lesson.id
        for lesson in lessons
        if lesson.id not in finished and meets_mastery(lesson, ran.get(lesson.id, set()), results, mastery)
    ]
    finished.update(newly)
    standings: list[LessonStanding] = []
    for lesson in lessons:
        examples = {e.id for e in lesson.examples}
        run_here = len(ran.get(lesson.id, set()) & examples)
        answers = [results.get((lesson.id, q.id)) for q in lesson.quiz]
        answered = sum(a is not None for a in answers)
        missing = tuple(p for p in lesson.prerequisites if p in known and p not in finished)
        status: Status
        if lesson.id in finished:
            status = "done"
        elif run_here or answered:
            status = "in_progress"
        else:
            status = "available" if not missing else "locked"
        right = sum(a is True for a in answers)
        standings.append(
            LessonStanding(lesson.id, status, run_here, len(examples), right, answered, len(lesson.quiz), missing)
        )
    topics = topic_mastery(lessons, results)
    return LearnerPath(standings, _recommend(lessons, standings, topics), topics, newly)


def _recommend(
    lessons: Sequence[Lesson], standings: Sequence[LessonStanding], topics: Mapping[str, float]
) -> Recommendation | None:
    weakest = next((topic for topic, share in topics.items() if share < 1.0), None)
    candidates = [
        (lesson, standing)
        for lesson, standing in zip(lessons, standings, strict=True)
        if standing.status != "done" and not standing.missing
    ]
    if not candidates:
        return None

    def rank(item: tuple[int, tuple[Lesson, LessonStanding]]) -> tuple[bool, bool, int]:
        index, (lesson, standing) = item
        return standing.status != "in_progress", weakest not in topics_of(lesson), index

    _, (lesson, standing) = min(enumerate(candidates), key=rank)
    about_weakest = weakest is not None and weakest in topics_of(lesson)
    return Recommendation(
        lesson.id,
        tuple(p for p in lesson.prerequisites if p in {s.lesson_id for s in standings}),
        standing.status == "in_progress",
        weakest if about_weakest else None,
        topics[weakest] if about_weakest and weakest is not None else None,
    )
