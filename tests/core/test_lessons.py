"""Lesson models: locale fallback, question helpers, cross-field rules, and the committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from bot.core.lessons import ChoiceQuestion, Lesson, PredictOutputQuestion, Question, Text, locale_chain
from bot.core.schema import lesson_json_schema, schema_text, write_schema

REPO = Path(__file__).resolve().parents[2]
QUESTION: TypeAdapter[Any] = TypeAdapter(Question)


def base(**extra: Any) -> dict[str, Any]:
    return {"id": "a", "title": "T", "examples": [{"id": "e", "code": "print(1)"}], **extra}


def rule_errors(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(pydantic loc + the field the rule names, message) for each error."""
    with pytest.raises(ValidationError) as caught:
        Lesson.model_validate(data)
    out = []
    for err in caught.value.errors():
        at = str((err.get("ctx") or {}).get("at", ""))
        parts = tuple(int(p) if p.isdigit() else p for p in at.split(".") if p)
        out.append(((*err["loc"], *parts), err["msg"]))
    return out


def test_locale_chain_and_text_fallback() -> None:
    assert locale_chain("zh-CN") == ["zh-CN", "zh", "en"]
    assert locale_chain(None) == ["en"]
    text = Text.model_validate({"en": "Hello", "zh-CN": "你好", "fr": "Bonjour"})
    assert text.get("zh-CN") == "你好"
    assert text.get("zh-TW") == "Hello"  # no zh-TW, no zh: back to en
    assert text.get("fr-CA") == "Bonjour"  # the language without its region
    assert text.get() == "Hello"
    assert Text.model_validate({"de": "Hallo"}).get("en") == "Hallo"  # anything at all, rather than nothing
    assert Text.model_validate("plain").get("zh-CN") == "plain"
    assert text.locales() == {"en", "zh-CN", "fr"}
    with pytest.raises(ValidationError, match="at least one language"):
        Text.model_validate({})


def test_supported_compares_requires_python() -> None:
    lesson = Lesson.model_validate(base(requires_python=">=3.12"))
    assert not lesson.supported((3, 11))
    assert lesson.supported((3, 12))
    assert Lesson.model_validate(base()).supported((3, 8))


def test_question_helpers() -> None:
    multi = QUESTION.validate_python(
        {
            "type": "choice",
            "id": "q",
            "prompt": "P",
            "explanation": "E",
            "choices": ["a", "b", "c"],
            "answer": ["a", "c"],
        }
    )
    assert isinstance(multi, ChoiceQuestion)
    assert multi.answers() == ["a", "c"] and multi.multiple
    order = QUESTION.validate_python(
        {"type": "predict_output", "id": "q", "prompt": "P", "explanation": "E", "answer": ["x", "y"]}
    )
    assert isinstance(order, PredictOutputQuestion)
    assert order.lines() == ["x", "y"]


def test_cross_field_rules_name_the_field() -> None:
    question = {"id": "q", "prompt": "P", "explanation": "E"}
    cases = [
        (
            base(examples=[{"id": "e", "code": "print(1)"}, {"id": "e", "code": "print(2)"}]),
            ("examples", 1, "id"),
            "duplicate example id 'e'",
        ),
        (
            base(quiz=[{**question, "type": "choice", "choices": ["a", "b"], "answer": ["a", "z"]}]),
            ("quiz", 0, "choice", "answer", 1),
            "answer 'z' is not among the choices",
        ),
        (
            base(quiz=[{**question, "type": "choice", "choices": ["a", "a"], "answer": "a"}]),
            ("quiz", 0, "choice", "choices", 1),
            "choice 'a' appears twice",
        ),
        (
            base(quiz=[{**question, "type": "predict_time", "answer": 2.0, "choices": [1.0, 3.0]}]),
            ("quiz", 0, "predict_time", "answer"),
            "answer 2.0 is not among the choices",
        ),
        (
            base(
                quiz=[{**question, "type": "text", "answers": ["x"], "points": 1, "hints": [{"text": "h", "cost": 2}]}]
            ),
            ("quiz", 0, "text", "hints"),
            "hints cost 2 points in total but the question is worth only 1",
        ),
        (base(prerequisites=["a"]), ("prerequisites", 0), "lists itself as a prerequisite"),
    ]
    for data, at, message in cases:
        ((where, msg),) = rule_errors(data)
        assert message in msg, (data, msg)
        assert where == at


def test_code_must_compile() -> None:
    ((_, message),) = rule_errors(base(examples=[{"id": "e", "code": "x = (\n"}]))
    assert "syntax error in the code, its line 1" in message


# --- the JSON Schema ------------------------------------------------------------------------------------


def test_committed_schema_is_the_generated_one() -> None:
    committed = REPO / "lessons" / "lesson.schema.json"
    assert committed.read_text(encoding="utf-8") == schema_text(), (
        "lessons/lesson.schema.json is stale: run `python -m bot.core.schema`"
    )


def test_schema_shape(tmp_path: Path) -> None:
    schema = lesson_json_schema()
    assert list(schema)[:3] == ["$schema", "title", "description"]
    assert schema["additionalProperties"] is False  # unknown keys are errors in editors too
    assert set(schema["required"]) == {"id", "title", "examples"}
    assert {"ChoiceQuestion", "PredictTimeQuestion", "Example", "Text"} <= set(schema["$defs"])
    target = tmp_path / "out" / "lesson.schema.json"
    write_schema(target)
    assert json.loads(target.read_text(encoding="utf-8")) == schema
