"""Quiz questions as a pure state machine: no I/O, no discord; users are int ids, time is passed in.

A `QuestionRound` is one question's answer window: members answer (and may change their answer) until it
closes, may take hints (each costs points), and `close()` yields a `Reveal` with the correct answer, how
the group answered (counts per choice) and each member's score.  A `QuizGame` strings rounds together and
keeps the scoreboard.  The quiz's own rules live here once for every front-end: which lines a predict-output
question offers and in what order (`offered_lines`), what its answer is (`canonical_answer`) and how an answer
reads (`answer_text`).  `QuizError`s carry a catalog id and parameters; front-ends word them.
"""

from __future__ import annotations

import difflib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from bot.core.errors import CorobotError, quoted
from bot.core.lessons import (
    ChoiceQuestion,
    PredictOutputQuestion,
    PredictTimeQuestion,
    Question,
    TextQuestion,
)

AnswerValue = str | float | tuple[str, ...]
SPEED_BONUS_SHARE = 0.5  # an instant answer earns up to half the points again


class QuizError(CorobotError):
    """A quiz action that can't be taken: `QuizError("quiz.…", **params)`."""

    def __init__(self, message_id: str, **params: object) -> None:
        super().__init__(message_id=message_id, params=params)


class WindowClosed(QuizError):
    def __init__(self) -> None:
        super().__init__("quiz.window_closed")


class InvalidAnswer(QuizError):
    """The answer does not fit the question (its id names how, e.g. `quiz.answer.not_a_choice`)."""


class NoSuchHint(QuizError):
    def __init__(self, count: int) -> None:
        super().__init__("quiz.no_such_hint", count=count)


def normalize_text(value: str) -> str:
    """Case, width, whitespace and punctuation don't matter: 'Hello,  World!' == 'hello world'."""
    value = unicodedata.normalize("NFKC", value).casefold()
    value = "".join(" " if unicodedata.category(ch).startswith(("P", "S")) else ch for ch in value)
    return re.sub(r"\s+", " ", value).strip()


def parse_seconds(value: str) -> float:
    """'1.5', '1.5s', '1.5 s', '1,5', '1500ms' -> seconds; InvalidAnswer otherwise."""
    text = value.strip().lower().replace(",", ".")
    match = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(ms|s|sec|secs|seconds|秒)?", text)
    if not match:
        raise InvalidAnswer("quiz.answer.not_seconds", given=quoted(value))
    number = float(match.group(1))
    return number / 1000 if match.group(2) == "ms" else number


def coerce_answer(question: Question, raw: AnswerValue | Sequence[str]) -> AnswerValue:
    """Validate a raw answer against the question's type and choices; canonical form out."""
    if isinstance(question, ChoiceQuestion):
        keys = [c.get() for c in question.choices]
        picked = _strings(raw)
        if not picked:
            raise InvalidAnswer("quiz.answer.none_picked")
        unknown = [p for p in picked if p not in keys]
        if unknown:
            raise InvalidAnswer("quiz.answer.not_a_choice", given=quoted(unknown[0]), choices=question.choices)
        if len(picked) > 1 and not question.multiple:
            raise InvalidAnswer("quiz.answer.pick_one")
        return tuple(sorted(set(picked), key=keys.index))
    if isinstance(question, PredictOutputQuestion):
        if isinstance(raw, str | float | int):
            raise InvalidAnswer("quiz.answer.order_lines")
        lines = _strings(raw)
        allowed = Counter(question.lines())
        if Counter(lines) - allowed:
            raise InvalidAnswer("quiz.answer.only_given_lines")
        return lines
    if isinstance(question, PredictTimeQuestion):
        if isinstance(raw, str):
            seconds = parse_seconds(raw)
        elif isinstance(raw, float | int):
            seconds = float(raw)
        else:
            raise InvalidAnswer("quiz.answer.one_number")
        if question.choices is not None and seconds not in question.choices:
            choices = seconds_choices(question)
            raise InvalidAnswer("quiz.answer.not_a_choice", given=quoted(f"{seconds:g} s"), choices=choices)
        return seconds
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidAnswer("quiz.answer.empty")
    return raw.strip()[:200]


def _strings(raw: AnswerValue | Sequence[str]) -> tuple[str, ...]:
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, float | int):
        return (f"{raw:g}",)
    return tuple(str(v) for v in raw)


class AnswerWay(StrEnum):
    """How a question is answered, on every front-end: what it offers and how it reads what is given."""

    PICK_ONE = "pick_one"  # one of the offered choices (a choice question, or a predict_time with choices)
    PICK_SEVERAL = "pick_several"  # every right one of the offered choices
    ORDER = "order"  # the offered lines, by their numbers, in the order the program prints them
    SECONDS = "seconds"  # a number of seconds
    TEXT = "text"  # free text


def answer_way(question: Question) -> AnswerWay:
    if isinstance(question, ChoiceQuestion):
        return AnswerWay.PICK_SEVERAL if question.multiple else AnswerWay.PICK_ONE
    if isinstance(question, PredictOutputQuestion):
        return AnswerWay.ORDER
    if isinstance(question, PredictTimeQuestion):
        return AnswerWay.PICK_ONE if question.choices else AnswerWay.SECONDS
    return AnswerWay.TEXT


def offered(question: Question, locale: str | None = None) -> list[str]:
    """What a question offers to pick from, numbered from 1 on every front-end: its choices as they read in
    `locale`, or the lines to put in order; empty for a question answered with seconds or text."""
    if isinstance(question, ChoiceQuestion):
        return [choice.get(locale) for choice in question.choices]
    if isinstance(question, PredictOutputQuestion):
        return offered_lines(question)
    if isinstance(question, PredictTimeQuestion):
        return seconds_choices(question)
    return []


def seconds_choices(question: PredictTimeQuestion) -> list[str]:
    """A predict-time question's choices as they read: `1.5 s`."""
    return [f"{c:g} s" for c in question.choices or ()]


def choice_at(question: Question, index: int) -> AnswerValue:
    """The answer a choice button stands for (its position among the choices); InvalidAnswer if there is none."""
    if isinstance(question, ChoiceQuestion):
        if 0 <= index < len(question.choices):
            return question.choices[index].get()
        raise InvalidAnswer("quiz.answer.no_such_choice", choices=question.choices)
    if isinstance(question, PredictTimeQuestion) and question.choices:
        if 0 <= index < len(question.choices):
            return question.choices[index]
        raise InvalidAnswer("quiz.answer.no_such_choice", choices=seconds_choices(question))
    raise InvalidAnswer("quiz.answer.not_choices")


def offered_lines(question: PredictOutputQuestion) -> list[str]:
    """The lines to put in order, shuffled the same way for everyone, everywhere, and after a restart."""
    lines = question.lines()
    random.Random(question.id).shuffle(lines)
    return lines


def parse_numbers(text: str, size: int, *, single: bool = False) -> list[int]:
    """`2 1 3` (or `2,1,3`) -> positions (0-based) among `size` numbered items; InvalidAnswer otherwise."""
    parts = text.replace(",", " ").split()
    if not parts or not all(p.isdigit() and 1 <= int(p) <= size for p in parts):
        raise InvalidAnswer("quiz.answer.numbers", count=size, given=quoted(text))
    if single and len(parts) != 1:
        raise InvalidAnswer("quiz.answer.one_of", count=size)
    return [int(p) - 1 for p in parts]


def lines_in_order(question: PredictOutputQuestion, text: str) -> list[str]:
    """The offered lines in the order a member typed their numbers (`2 1 3`)."""
    lines = offered_lines(question)
    return [lines[i] for i in parse_numbers(text, len(lines))]


def canonical_answer(question: Question) -> AnswerValue:
    """The question's right answer in the form `coerce_answer` produces (for a text question, its first answer)."""
    if isinstance(question, ChoiceQuestion):
        return tuple(question.answers())
    if isinstance(question, PredictOutputQuestion):
        return tuple(question.answer)
    if isinstance(question, PredictTimeQuestion):
        return question.answer
    return question.answers[0]


def answer_text(question: Question, value: AnswerValue, locale: str | None = None) -> str:
    """How an answer reads: choices by their label in `locale` (joined by +), lines joined by →, `1.5 s`."""
    if isinstance(question, ChoiceQuestion) and isinstance(value, tuple):
        labels = {c.get(): c.get(locale) for c in question.choices}
        return " + ".join(labels.get(v, v) for v in value)
    return answer_key(question, value)


def correct_text(question: Question, locale: str | None = None) -> str:
    """The right answer as a reveal shows it (every accepted text; a free time with its tolerance)."""
    if isinstance(question, TextQuestion):
        return " / ".join(question.answers)
    text = answer_text(question, canonical_answer(question), locale)
    if isinstance(question, PredictTimeQuestion) and not question.choices:
        text += f" (± {question.tolerance:g})"
    return text


def is_correct(question: Question, answer: AnswerValue) -> bool:
    if isinstance(question, ChoiceQuestion):
        return set(answer) == set(question.answers()) if isinstance(answer, tuple) else False
    if isinstance(question, PredictOutputQuestion):
        return isinstance(answer, tuple) and list(answer) == list(question.answer)
    if isinstance(question, PredictTimeQuestion):
        if not isinstance(answer, float | int):
            return False
        if question.choices is not None:
            return float(answer) == question.answer
        return abs(float(answer) - question.answer) <= question.tolerance
    assert isinstance(question, TextQuestion)
    if not isinstance(answer, str):
        return False
    given = normalize_text(answer)
    for accepted in question.answers:
        target = normalize_text(accepted)
        if given == target:
            return True
        if question.fuzzy is not None and difflib.SequenceMatcher(None, given, target).ratio() >= question.fuzzy:
            return True
    return False


def answer_key(question: Question, answer: AnswerValue) -> str:
    """How an answer is counted in the revealed distribution."""
    if isinstance(answer, tuple):
        return " → ".join(answer) if isinstance(question, PredictOutputQuestion) else " + ".join(answer)
    if isinstance(answer, float | int):
        return f"{float(answer):g} s"
    return normalize_text(answer)


@dataclass(slots=True)
class Submission:
    user_id: int
    value: AnswerValue
    at: float  # seconds since the window opened
    changes: int = 0


@dataclass(frozen=True, slots=True)
class Score:
    user_id: int
    correct: bool
    points: int
    hint_cost: int
    speed_bonus: int

    @property
    def total(self) -> int:
        return self.points + self.speed_bonus - self.hint_cost if self.correct else 0


@dataclass(frozen=True, slots=True)
class Reveal:
    question: Question
    distribution: dict[str, int]  # answer key -> how many answered it
    scores: list[Score]  # everyone who answered, best first
    late: int  # answers refused because the window had closed

    @property
    def correct_users(self) -> list[int]:
        return [s.user_id for s in self.scores if s.correct]


@dataclass(slots=True)
class QuestionRound:
    question: Question
    opened_at: float
    duration: float
    speed_bonus: bool = False
    submissions: dict[int, Submission] = field(default_factory=dict)
    hints_taken: dict[int, set[int]] = field(default_factory=dict)
    closed: bool = False
    late: int = 0

    @property
    def closes_at(self) -> float:
        return self.opened_at + self.duration

    def is_open(self, now: float) -> bool:
        return not self.closed and now < self.closes_at

    def answer(self, user_id: int, raw: AnswerValue | Sequence[str], now: float) -> Submission:
        """Record or change `user_id`'s answer; refused once the window has closed."""
        if not self.is_open(now):
            self.late += 1
            raise WindowClosed()
        value = coerce_answer(self.question, raw)
        previous = self.submissions.get(user_id)
        submission = Submission(user_id, value, now - self.opened_at, previous.changes + 1 if previous else 0)
        self.submissions[user_id] = submission
        return submission

    def take_hint(self, user_id: int, index: int, now: float) -> tuple[str, int]:
        """The hint (its text as a Text key into the lesson) and its cost; taking one twice costs once."""
        if not self.is_open(now):
            raise WindowClosed()
        if not 0 <= index < len(self.question.hints):
            raise NoSuchHint(len(self.question.hints))
        self.hints_taken.setdefault(user_id, set()).add(index)
        hint = self.question.hints[index]
        return hint.text.get(), hint.cost

    def hint_cost(self, user_id: int) -> int:
        return sum(self.question.hints[i].cost for i in self.hints_taken.get(user_id, ()))

    def close(self) -> Reveal:
        self.closed = True
        distribution: Counter[str] = Counter()
        scores: list[Score] = []
        for sub in self.submissions.values():
            distribution[answer_key(self.question, sub.value)] += 1
            correct = is_correct(self.question, sub.value)
            bonus = 0
            if correct and self.speed_bonus and self.duration > 0:
                remaining = max(0.0, 1.0 - sub.at / self.duration)
                bonus = round(self.question.points * SPEED_BONUS_SHARE * remaining)
            scores.append(Score(sub.user_id, correct, self.question.points, self.hint_cost(sub.user_id), bonus))
        scores.sort(key=lambda s: (-s.total, self.submissions[s.user_id].at))
        return Reveal(self.question, dict(distribution.most_common()), scores, self.late)


Mode = Literal["group", "solo"]


@dataclass(slots=True)
class QuizGame:
    """A run of questions from one lesson; `totals` is the scoreboard."""

    lesson_id: str
    questions: list[Question]
    mode: Mode = "group"
    speed_bonus: bool = False
    index: int = -1
    current: QuestionRound | None = None
    reveals: list[Reveal] = field(default_factory=list)
    revealed: int = 0  # questions closed so far (kept across restarts, unlike `reveals`)
    totals: Counter[int] = field(default_factory=Counter)
    answered: Counter[int] = field(default_factory=Counter)
    right: Counter[int] = field(default_factory=Counter)

    @property
    def finished(self) -> bool:
        return self.index >= len(self.questions) - 1 and (self.current is None or self.current.closed)

    def next_question(self, now: float, duration: float | None = None) -> QuestionRound:
        """Open the next question's window (`duration` overrides the question's own timeout)."""
        if self.current is not None and not self.current.closed:
            raise QuizError("quiz.still_open")
        if self.index + 1 >= len(self.questions):
            raise QuizError("quiz.no_questions_left")
        self.index += 1
        question = self.questions[self.index]
        self.current = QuestionRound(question, now, duration or question.timeout, self.speed_bonus)
        return self.current

    def close_current(self) -> Reveal:
        if self.current is None or self.current.closed:
            raise QuizError("quiz.none_open")
        reveal = self.current.close()
        for score in reveal.scores:
            self.totals[score.user_id] += score.total
            self.answered[score.user_id] += 1
            self.right[score.user_id] += int(score.correct)
        self.reveals.append(reveal)
        self.revealed += 1
        return reveal

    def forget(self, user_id: int) -> None:
        """/forget-me: the member's answers, hints and scores leave the game (it goes on for the others)."""
        for counter in (self.totals, self.answered, self.right):
            counter.pop(user_id, None)
        if self.current is not None:
            self.current.submissions.pop(user_id, None)
            self.current.hints_taken.pop(user_id, None)

    def scoreboard(self) -> list[tuple[int, int, int, int]]:
        """(user_id, points, right, answered), best first."""
        users = set(self.answered) | set(self.totals)
        rows = [(u, self.totals[u], self.right[u], self.answered[u]) for u in users]
        return sorted(rows, key=lambda r: (-r[1], -r[2], r[0]))

    # -- persistence -------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state; the questions themselves are not included (they live in the lesson)."""
        current = self.current
        return {
            "index": self.index,
            "mode": self.mode,
            "speed_bonus": self.speed_bonus,
            "totals": {str(k): v for k, v in self.totals.items()},
            "answered": {str(k): v for k, v in self.answered.items()},
            "right": {str(k): v for k, v in self.right.items()},
            "revealed": self.revealed,
            "current": None
            if current is None
            else {
                "opened_at": current.opened_at,
                "duration": current.duration,
                "closed": current.closed,
                "late": current.late,
                "hints": {str(u): sorted(taken) for u, taken in current.hints_taken.items()},
                "submissions": [[s.user_id, _jsonable(s.value), s.at, s.changes] for s in current.submissions.values()],
            },
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], lesson_id: str, questions: list[Question]) -> QuizGame:
        mode: Mode = "solo" if state.get("mode") == "solo" else "group"
        game = cls(lesson_id, questions, mode=mode, speed_bonus=bool(state.get("speed_bonus", False)))
        game.index = int(state["index"])
        for name in ("totals", "answered", "right"):
            getattr(game, name).update({int(k): int(v) for k, v in state[name].items()})
        game.revealed = int(state["revealed"])
        current = state.get("current")
        if current is not None and 0 <= game.index < len(questions):
            question = questions[game.index]
            rnd = QuestionRound(question, float(current["opened_at"]), float(current["duration"]), game.speed_bonus)
            rnd.closed = bool(current["closed"])
            rnd.late = int(current.get("late", 0))
            rnd.hints_taken = {int(u): {int(i) for i in taken} for u, taken in current.get("hints", {}).items()}
            for uid, value, at, changes in current["submissions"]:
                value = coerce_answer(question, value)
                rnd.submissions[int(uid)] = Submission(int(uid), value, float(at), int(changes))
            game.current = rnd
        return game


def _jsonable(value: AnswerValue) -> Any:
    return list(value) if isinstance(value, tuple) else value
