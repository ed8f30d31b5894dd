"""The quiz's texts as pure functions: whatever was answered, and a lesson's choice labels, stay in their inline
code spans in the reveal."""

from __future__ import annotations

from bot.core.lessons import ChoiceQuestion, TextQuestion
from bot.core.quiz import Reveal
from bot.discord_app.quiz.texts import reveal_text

HOSTILE = "run`\n**bold** [x](https://evil.example) ```"


def distribution_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Answers ("))


def test_a_revealed_answer_stays_in_its_span() -> None:
    question = TextQuestion.model_validate(
        {"id": "name", "type": "text", "prompt": "Which?", "explanation": "Because.", "answers": ["asyncio.run"]}
    )
    line = distribution_line(reveal_text(Reveal(question, {HOSTILE: 2}, [], 0), (1, 1), "en"))
    assert line.count("`") == 2 and "https://evil.example" in line.split("`")[1]
    assert line.endswith("` × 2")


def test_a_choice_label_with_backticks_stays_in_its_span() -> None:
    question = ChoiceQuestion.model_validate(
        {
            "id": "pick",
            "type": "choice",
            "prompt": "Which?",
            "explanation": "Because.",
            "choices": ["`gather`", "sequential"],
            "answer": "`gather`",
        }
    )
    line = distribution_line(reveal_text(Reveal(question, {"`gather`": 1}, [], 0), (1, 1), "en"))
    assert line.count("`") == 4, line  # two spans, each opened and closed once
    assert "ˋgatherˋ" in line
