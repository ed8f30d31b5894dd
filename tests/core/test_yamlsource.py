"""YAML positions and readable validation errors (real pydantic models, real YAML text)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bot.core.errors import LessonError
from bot.core.lessons import Lesson
from bot.core.yamlsource import describe_validation_error, load_yaml, rule_error


def errors_for(text: str, model: type[BaseModel] = Lesson, with_model: bool = True) -> list[str]:
    data, locator = load_yaml(text, "f.yaml")
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [str(e) for e in describe_validation_error(caught.value, locator, model if with_model else None)]


def test_positions_of_keys_values_and_list_items() -> None:
    data, locator = load_yaml("a: 1\nb:\n  - x\n  - {c: 2}\n", "f.yaml")
    assert data == {"a": 1, "b": ["x", {"c": 2}]}
    assert locator.locate(("a",)) == (1, 4)
    assert locator.locate(("b", 1, "c")) == (4, 9)
    assert locator.locate(("b", 1, "c"), prefer_key=True) == (4, 6)
    assert locator.locate(("b", 5)) == (3, 3)  # unknown index: the deepest known node (the list)
    assert locator.locate(()) == (1, 1)


def test_syntax_errors_and_duplicate_keys_carry_the_parser_position() -> None:
    with pytest.raises(LessonError) as caught:
        load_yaml("a: 1\nb: [2\n", "f.yaml")
    assert (caught.value.line, caught.value.column) == (3, 1)
    assert str(caught.value).startswith("f.yaml:3:1: invalid YAML: ")
    with pytest.raises(LessonError) as caught:
        load_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")
    assert str(caught.value) == (
        "f.yaml:3:1: invalid YAML: while constructing a mapping found duplicate key 'a' (first defined on line 1)"
    )


def test_a_text_field_of_the_wrong_type_gives_one_merged_message() -> None:
    text = "id: a\ntitle: 5\nexamples:\n  - {id: e, code: 'print(1)'}\n"
    assert errors_for(text) == [
        "f.yaml:2:8: title: expected text: a string, or a mapping of language to string like "
        "{en: ..., zh-CN: ...}, got 5"
    ]


def test_a_bad_language_tag_reports_the_key_not_the_union_branches() -> None:
    text = "id: a\ntitle: {EN: Hi}\nexamples:\n  - {id: e, code: 'print(1)'}\n"
    assert errors_for(text) == ["f.yaml:2:13: title.EN: 'EN' is not a language tag like 'en' or 'zh-CN'"]


def test_question_type_tags_are_stripped_even_when_a_key_has_the_same_name() -> None:
    # a `text` question with a hint lacking `text`: pydantic's loc is ('quiz', 0, 'text', 'hints', 0, 'text')
    text = (
        "id: a\ntitle: T\nexamples:\n  - {id: e, code: 'print(1)'}\nquiz:\n  - id: q\n    type: text\n"
        "    prompt: P\n    explanation: E\n    answers: [x]\n    hints:\n      - {cost: 1}\n"
    )
    assert errors_for(text) == ["f.yaml:12:9: missing required key 'text' in quiz.0.hints.0"]


def test_missing_discriminator_lists_the_types() -> None:
    text = "id: a\ntitle: T\nexamples:\n  - {id: e, code: 'print(1)'}\nquiz:\n  - id: q\n"
    assert errors_for(text) == [
        "f.yaml:6:5: quiz.0: missing required key 'type' (one of: choice, predict_output, predict_time, text)"
    ]


def test_unknown_keys_suggest_and_list_only_with_the_model() -> None:
    text = "id: a\ntitle: T\nexamples:\n  - {id: e, code: 'print(1)', expcet: {}}\n"
    assert errors_for(text) == [
        "f.yaml:4:31: unknown key 'expcet' in examples.0 (did you mean 'expect'?); "
        "allowed keys: id, title, code, timeout, versions, compare, expect"
    ]
    assert errors_for(text, with_model=False) == ["f.yaml:4:31: unknown key 'expcet' in examples.0"]


def test_code_syntax_errors_point_into_the_block_scalar() -> None:
    text = (
        "id: a\ntitle: T\nexamples:\n  - id: e\n    code: |\n      import asyncio\n"
        "      async def main():\n          await asyncio.sleep(1\n      asyncio.run(main())\n"
    )
    (error,) = errors_for(text)
    # the code's line 3 is the file's line 8; the column is the block's indentation plus the code's column
    assert error.startswith("f.yaml:8:30: examples.0.code: syntax error in the code, its line 3: ")
    assert error.endswith(": await asyncio.sleep(1")
    single = errors_for("id: a\ntitle: T\nexamples:\n  - id: e\n    code: 'print(1 +)'\n")
    assert single[0].startswith("f.yaml:5:21: examples.0.code: syntax error in the code, its line 1: ")


def test_rule_errors_land_on_the_field_they_name() -> None:
    class Pair(BaseModel):
        model_config = ConfigDict(extra="forbid")
        low: int
        high: int

        @model_validator(mode="after")
        def _ordered(self) -> Pair:
            if self.low > self.high:
                raise rule_error(f"low ({self.low}) is above high ({self.high})", "high")
            return self

    class Doc(BaseModel):
        pairs: list[Pair]

    assert errors_for("pairs:\n  - {low: 1, high: 2}\n  - low: 5\n    high: 3\n", Doc) == [
        "f.yaml:4:11: pairs.1.high: low (5) is above high (3)"
    ]


def test_scalar_type_errors_say_what_was_given() -> None:
    text = "id: a\ntitle: T\nexamples:\n  - id: e\n    code: print(1)\n    timeout: soon\n"
    assert errors_for(text) == ["f.yaml:6:14: examples.0.timeout: expected a number, got the string 'soon'"]
    text = "id: a\ntitle: T\nexamples: []\n"
    assert errors_for(text) == ["f.yaml:3:11: examples: needs at least 1 item(s), got 0"]
