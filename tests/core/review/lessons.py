"""Small lessons built in code for the review tests, and a catalog-like holder that can change them."""

from __future__ import annotations

from typing import Any

from bot.core.errors import UnknownLesson
from bot.core.lessons import Lesson

CODE = "import asyncio\n\nasync def main():\n    await asyncio.sleep(0)\n    print('hi')\n\nasyncio.run(main())\n"


def choice(qid: str, prompt: str = "Which?", answer: str = "a", **extra: Any) -> dict[str, Any]:
    question = {"id": qid, "type": "choice", "prompt": prompt, "explanation": "because", "choices": ["a", "b"]}
    return {**question, "answer": answer, "timeout": 20, **extra}


def lesson(
    lesson_id: str,
    *,
    prerequisites: tuple[str, ...] = (),
    tags: tuple[str, ...] = (),
    examples: tuple[str, ...] = ("one",),
    questions: tuple[dict[str, Any], ...] = (),
) -> Lesson:
    return Lesson.model_validate(
        {
            "id": lesson_id,
            "title": lesson_id.title(),
            "tags": list(tags),
            "prerequisites": list(prerequisites),
            "examples": [{"id": e, "code": CODE} for e in examples],
            "quiz": list(questions),
        }
    )


class Lessons:
    """Satisfies `bot.core.review.service.Lessons`; tests replace lessons to mimic an edit."""

    def __init__(self, *lessons: Lesson) -> None:
        self.by_id = {x.id: x for x in lessons}

    def lessons(self) -> list[Lesson]:
        return list(self.by_id.values())

    def get(self, lesson_id: str) -> Lesson:
        try:
            return self.by_id[lesson_id]
        except KeyError:
            raise UnknownLesson(lesson_id) from None

    def put(self, new: Lesson) -> None:
        self.by_id[new.id] = new
