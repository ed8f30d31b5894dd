"""The lesson format: pydantic v2 models for one YAML file in `lessons/`.

Unknown keys are errors everywhere (`extra="forbid"`).  Text fields take a plain string or a mapping
of locale -> string; `Text.get(locale)` falls back to `en`, then to any language present.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationInfo, field_validator, model_validator

from bot.core.versions import VERSION
from bot.core.yamlsource import rule_error

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en"
SLUG = r"^[a-z0-9][a-z0-9_-]*$"
_REQUIRES = re.compile(r"^\s*>=\s*(\d+)\.(\d+)\s*$")
COMPILED = "code_compiled"
"""Validation context key: when true, `Example.code` is known to compile (see `bot.core.lesson_cache`)."""


def locale_chain(locale: str | None) -> list[str]:
    """'zh-CN' -> ['zh-CN', 'zh', 'en']: the exact tag, its language, then the default."""
    chain: list[str] = []
    if locale:
        chain.append(locale)
        base = locale.split("-")[0]
        if base != locale:
            chain.append(base)
    if DEFAULT_LOCALE not in chain:
        chain.append(DEFAULT_LOCALE)
    return chain


class Text(RootModel[str | dict[str, str]]):
    """A string, or a mapping locale -> string (e.g. `{en: ..., zh-CN: ...}`)."""

    root: str | dict[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")], str]

    @field_validator("root")
    @classmethod
    def _not_empty(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, dict) and not value:
            raise ValueError("a text mapping needs at least one language, e.g. {en: ...}")
        return value

    def get(self, locale: str | None = None) -> str:
        if isinstance(self.root, str):
            return self.root
        for tag in locale_chain(locale):
            if tag in self.root:
                return self.root[tag]
        for tag, value in self.root.items():  # case-insensitive match, then anything at all
            if locale and tag.lower() == locale.lower():
                return value
        return next(iter(self.root.values()))

    def locales(self) -> set[str]:
        return set() if isinstance(self.root, str) else set(self.root)

    def __str__(self) -> str:
        return self.get()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ElapsedExpect(_Strict):
    seconds: float = Field(ge=0, description="expected wall time of the whole program")
    tolerance: float = Field(default=0.25, gt=0, description="accepted difference, in seconds")

    def matches(self, elapsed: float) -> bool:
        return abs(elapsed - self.seconds) <= self.tolerance


ExpectStatus = Literal["ok", "error", "timeout"]


class VersionExpect(_Strict):
    """What differs on one Python version: each field given replaces the example's own `expect` field."""

    output: list[str] | None = Field(default=None, description="stdout lines on this version, exact, in order")
    elapsed: ElapsedExpect | None = None
    status: ExpectStatus | None = Field(default=None, description="how the run ends on this version")
    note: Text | None = Field(default=None, description="why this version differs")


class Expect(_Strict):
    output: list[str] | None = Field(default=None, description="stdout lines, exact, in order")
    elapsed: ElapsedExpect | None = None
    status: ExpectStatus = Field(
        default="ok", description="how the run should end (a lesson may show an error on purpose)"
    )
    note: Text | None = Field(default=None, description="why: shown next to expected vs actual")
    by_version: dict[Annotated[str, Field(pattern=VERSION)], VersionExpect] = Field(
        default_factory=dict,
        description='where a Python version behaves differently, e.g. {"3.11": {output: [...]}}: its fields '
        "replace the ones above on that version (the versions must be among the example's `versions`)",
    )

    def for_version(self, version: str | None) -> Expect:
        """What to expect on `version` (None: the fields above)."""
        override = self.by_version.get(version) if version is not None else None
        if override is None:
            return self
        changes = {name: getattr(override, name) for name in override.model_fields_set}
        return self.model_copy(update=changes)


class Section(_Strict):
    title: Text
    body: Text = Field(description="Markdown")
    duration: float | None = Field(
        default=None, ge=1, le=3600, description="seconds a study session stays here before auto-advancing"
    )
    example: str | None = Field(default=None, description="the example this section is about: a session's Run")


class Example(_Strict):
    id: str = Field(pattern=SLUG)
    title: Text | None = None
    code: str = Field(min_length=1, description="a complete program, normally ending in asyncio.run(main())")
    timeout: float | None = Field(default=None, gt=0, description="seconds; capped by the config's maximum")
    versions: list[Annotated[str, Field(pattern=VERSION)]] | None = Field(
        default=None,
        description='the Python versions this example is about, as strings: ["3.11", "3.12"]; it runs on the '
        "default version when that is one of them, else on the newest of them installed, and `lessons check` "
        "runs it on each one installed",
    )
    compare: bool = Field(
        default=False,
        description="a version comparison: a run without a chosen version runs it on each of `versions` and "
        "shows the outputs and timelines side by side, differences marked",
    )
    expect: Expect | None = None

    @field_validator("versions", mode="before")
    @classmethod
    def _versions_are_strings(cls, value: object) -> object:
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, int | float) and not isinstance(item, bool):
                    raise rule_error(
                        f'write each version in quotes, e.g. "3.12": YAML reads {item!r} as a number '
                        "(3.10 would become 3.1)",
                        str(index),
                    )
        return value

    @model_validator(mode="after")
    def _versions_agree(self) -> Example:
        versions = self.versions or []
        for index, version in enumerate(versions):
            if version in versions[:index]:
                raise rule_error(f"version {version!r} is listed twice", f"versions.{index}")
        if self.compare and len(versions) < 2:
            raise rule_error("a version comparison (compare: true) needs at least two `versions`", "compare")
        for version in self.expect.by_version if self.expect is not None else {}:
            if version not in versions:
                raise rule_error(
                    f"expect.by_version names Python {version}, which is not among the example's versions "
                    f"{versions or '(none given)'}",
                    f"expect.by_version.{version}",
                )
        return self

    @field_validator("code")
    @classmethod
    def _compiles(cls, code: str, info: ValidationInfo) -> str:
        if isinstance(info.context, dict) and info.context.get(COMPILED):
            return code  # the lesson cache vouches for it: compiled by this Python when the file was parsed
        try:
            compile(code, "<example>", "exec", dont_inherit=True)
        except SyntaxError as exc:
            line = exc.lineno or 1
            lines = code.splitlines()
            source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            raise rule_error(
                f"syntax error in the code, its line {line}: {exc.msg}" + (f": {source}" if source else ""),
                text_line=line,
                text_column=exc.offset,
            ) from None
        except ValueError as exc:  # e.g. a NUL byte
            raise rule_error(f"the code cannot be compiled: {exc}") from None
        except (RecursionError, MemoryError):  # e.g. `1+1+...` many thousand times: bounded, never fatal
            raise rule_error("the code is nested too deeply for Python to compile") from None
        return code


class Hint(_Strict):
    text: Text
    cost: int = Field(default=1, ge=0, description="points taken from the question's score")


class _Question(_Strict):
    id: str = Field(pattern=SLUG)
    prompt: Text
    explanation: Text = Field(description="shown after the answer window closes")
    hints: list[Hint] = Field(default_factory=list)
    points: int = Field(default=10, ge=1)
    timeout: float = Field(default=30.0, gt=0, le=600, description="answer window, seconds")
    example: str | None = Field(default=None, description="an example id of this lesson: run after the reveal")

    @model_validator(mode="after")
    def _hints_affordable(self) -> _Question:
        cost = sum(h.cost for h in self.hints)
        if cost > self.points:
            raise rule_error(
                f"hints cost {cost} points in total but the question is worth only {self.points}: "
                "lower the hints' `cost` or raise `points`",
                "hints",
            )
        return self


class ChoiceQuestion(_Question):
    type: Literal["choice"]
    choices: list[Text] = Field(min_length=2)
    answer: str | list[str] = Field(description="the correct choice(s), written as in `choices` (en text)")

    def answers(self) -> list[str]:
        return [self.answer] if isinstance(self.answer, str) else list(self.answer)

    @property
    def multiple(self) -> bool:
        return isinstance(self.answer, list) and len(self.answer) > 1

    @model_validator(mode="after")
    def _answer_in_choices(self) -> ChoiceQuestion:
        keys = [c.get() for c in self.choices]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                raise rule_error(f"choice {key!r} appears twice; choices must be distinct", f"choices.{index}")
        for index, answer in enumerate(self.answers()):
            if answer not in keys:
                at = f"answer.{index}" if isinstance(self.answer, list) else "answer"
                raise rule_error(
                    f"answer {answer!r} is not among the choices {keys} (write it as the choice's en text)", at
                )
        return self


class PredictOutputQuestion(_Question):
    type: Literal["predict_output"]
    answer: list[str] = Field(min_length=2, description="the lines the program prints, in order")
    choices: list[str] | None = Field(default=None, description="lines to order; default: the answer's")

    @model_validator(mode="after")
    def _answer_in_choices(self) -> PredictOutputQuestion:
        if self.choices is not None:
            missing = [line for line in self.answer if line not in self.choices]
            if missing:
                raise rule_error(f"answer lines {missing} are not among the choices {self.choices}", "answer")
        return self

    def lines(self) -> list[str]:
        return list(self.choices) if self.choices is not None else list(self.answer)


class PredictTimeQuestion(_Question):
    type: Literal["predict_time"]
    answer: float = Field(ge=0, description="seconds the program takes")
    choices: list[float] | None = Field(default=None, description="seconds to pick from")
    tolerance: float = Field(default=0.25, gt=0, description="accepted error for a typed number")

    @model_validator(mode="after")
    def _answer_in_choices(self) -> PredictTimeQuestion:
        if self.choices is not None and self.answer not in self.choices:
            raise rule_error(f"answer {self.answer} is not among the choices {self.choices}", "answer")
        return self


class TextQuestion(_Question):
    type: Literal["text"]
    answers: list[str] = Field(min_length=1, description="accepted answers (case, spaces, punctuation ignored)")
    fuzzy: float | None = Field(default=None, gt=0, le=1, description="similarity ratio that still counts")


Question = Annotated[
    ChoiceQuestion | PredictOutputQuestion | PredictTimeQuestion | TextQuestion, Field(discriminator="type")
]


class Lesson(_Strict):
    id: str = Field(pattern=SLUG, description="unique slug")
    title: Text
    summary: Text | None = None
    level: Literal["beginner", "intermediate", "advanced"] | None = None
    tags: list[str] = Field(default_factory=list)
    requires_python: str | None = Field(default=None, pattern=r"^\s*>=\s*\d+\.\d+\s*$")
    prerequisites: list[str] = Field(default_factory=list, description="lesson ids to take first")
    objectives: list[Text] = Field(default_factory=list, description="what the learner can do afterwards")
    key_points: list[Text] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    examples: list[Example] = Field(min_length=1)
    quiz: list[Question] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Lesson:
        for kind, field, ids in (
            ("example", "examples", [e.id for e in self.examples]),
            ("question", "quiz", [q.id for q in self.quiz]),
        ):
            seen: set[str] = set()
            for index, item in enumerate(ids):
                if item in seen:
                    raise rule_error(
                        f"duplicate {kind} id {item!r}; ids must be unique in a lesson", f"{field}.{index}.id"
                    )
                seen.add(item)
        examples = [e.id for e in self.examples]
        references = [
            *((f"question {q.id!r}", q.example, f"quiz.{i}.example") for i, q in enumerate(self.quiz)),
            *((f"section {i + 1}", s.example, f"sections.{i}.example") for i, s in enumerate(self.sections)),
        ]
        for who, example, where in references:
            if example is not None and example not in examples:
                raise rule_error(
                    f"{who} names example {example!r}, which this lesson lacks (it has: {', '.join(examples)})", where
                )
        for index, prerequisite in enumerate(self.prerequisites):
            if prerequisite == self.id:
                raise rule_error(f"lesson {self.id!r} lists itself as a prerequisite", f"prerequisites.{index}")
        return self

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.quiz if q.id == question_id), None)

    def example(self, example_id: str | None = None) -> Example | None:
        """The example with that id, or the first one when no id is given."""
        if example_id is None:
            return self.examples[0]
        return next((e for e in self.examples if e.id == example_id), None)

    def supported(self, version: tuple[int, int] = sys.version_info[:2]) -> bool:
        """False when `requires_python` asks for a newer Python than `version`."""
        if self.requires_python is None:
            return True
        match = _REQUIRES.match(self.requires_python)
        return match is None or version >= (int(match.group(1)), int(match.group(2)))
