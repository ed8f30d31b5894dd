"""The storage protocol the core depends on; `bot/storage/sqlite.py` (the default) and
`bot/storage/postgres.py` implement it, chosen by `storage.url`.

Everything is scoped by guild (0 = the console).  Answers are keyed by (quiz, question, user), so a
member who answers twice, or fifty members answering at once, are each recorded exactly once.  Every method
raises a `bot.core.errors.StorageError` subclass when the database fails (full, read-only, locked, gone,
damaged; `StorageConflict` for a second active session in a channel): reads keep working through a write
fault, and nothing committed before is lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Period = Literal["week", "month", "all"]
ReviewSource = Literal["quiz", "review"]
NEW_CARD_STATE, NEW_CARD_STEP = 1, 0  # a card before its first answer (FSRS: State.Learning, step 0)


@dataclass(frozen=True, slots=True)
class RunRecordRow:
    guild_id: int
    user_id: int
    lesson_id: str
    example_id: str
    status: str
    elapsed: float


@dataclass(frozen=True, slots=True)
class AnswerRow:
    quiz_id: str
    question_id: str
    user_id: int
    answer: Any  # JSON-ready
    at: float  # unix time
    correct: bool | None = None  # None until the window closes
    points: int = 0


@dataclass(slots=True)
class Progress:
    guild_id: int
    user_id: int
    lessons_started: list[str] = field(default_factory=list)
    lessons_completed: list[str] = field(default_factory=list)
    examples_run: int = 0
    runs_ok: int = 0
    answers: int = 0
    correct: int = 0
    points: int = 0

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None


@dataclass(frozen=True, slots=True)
class QuestionRef:
    """A quiz question as spaced review knows it: `id` is what cards point to."""

    id: int
    lesson_id: str
    question_id: str
    content_hash: str
    retired: bool = False


@dataclass(frozen=True, slots=True)
class CardRow:
    """One learner's review card for one question: FSRS's state (`state`, `step`, `stability`, `difficulty`,
    `due`, `last_review`; times are unix seconds) plus counts and whether the latest answer was right."""

    guild_id: int
    user_id: int
    question: int  # QuestionRef.id
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: float
    last_review: float | None
    reps: int = 0
    lapses: int = 0
    last_correct: bool | None = None


@dataclass(frozen=True, slots=True)
class ReviewLogRow:
    guild_id: int
    user_id: int
    question: int
    source: ReviewSource
    correct: bool
    rating: int  # FSRS: 1 Again, 2 Hard, 3 Good, 4 Easy
    seconds: float | None
    at: float


@dataclass(frozen=True, slots=True)
class CardResult:
    """A card after an answer, and the answer's log entry: written together."""

    card: CardRow
    log: ReviewLogRow


@dataclass(frozen=True, slots=True)
class LearnerCard:
    card: CardRow
    lesson_id: str
    question_id: str


@dataclass(frozen=True, slots=True)
class ReminderCandidate:
    """A member who asked for reminders in a server and has `due` cards due there."""

    guild_id: int
    user_id: int
    timezone: str | None
    last_sent: float | None
    due: int


@dataclass(frozen=True, slots=True)
class MissedQuestion:
    lesson_id: str
    question_id: str
    missed: int  # members whose answer was wrong at least once
    answered: int  # members who answered it


@dataclass(frozen=True, slots=True)
class RecapData:
    """A server's week: its most active learners, lessons finished, the question most members got wrong."""

    top: list[tuple[int, int, int]]  # (user_id, right answers, answers), best first
    lessons_done: list[tuple[str, int]]  # (lesson_id, members who finished it), most first
    learners: int  # members who answered anything
    most_missed: MissedQuestion | None


class Storage(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...

    # runs and lesson progress
    async def record_run(self, row: RunRecordRow) -> None: ...
    async def mark_lesson(self, guild_id: int, user_id: int, lesson_id: str, *, completed: bool) -> None: ...
    async def progress(self, guild_id: int, user_id: int) -> Progress: ...
    async def leaderboard(self, guild_id: int, period: Period, limit: int = 10) -> list[tuple[int, int, int]]:
        """(user_id, points, correct answers), best first."""
        ...

    # quizzes: state survives restarts; answers upserted while open, scored when revealed
    async def save_quiz(self, quiz_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> None: ...
    async def end_quiz(self, quiz_id: str) -> None: ...
    async def active_quizzes(self) -> list[tuple[str, int, int, dict[str, Any]]]: ...
    async def record_answer(self, guild_id: int, row: AnswerRow) -> None: ...
    async def score_answers(self, quiz_id: str, question_id: str, scores: dict[int, tuple[bool, int]]) -> None: ...
    async def answers(self, quiz_id: str, question_id: str) -> list[AnswerRow]: ...

    # study sessions
    async def save_session(self, session_id: str, guild_id: int, channel_id: int, state: dict[str, Any]) -> None: ...
    async def end_session(self, session_id: str) -> None: ...
    async def active_sessions(self) -> list[tuple[str, int, int, dict[str, Any]]]: ...

    # spaced review, the path, streaks, reminders, recaps (bot/core/review); guild 0 is the console
    async def review_question(self, lesson_id: str, question_id: str, content_hash: str, now: float) -> QuestionRef:
        """The question's reference, registered on first use.  A different `content_hash` means the question
        changed: every card of it is reset (a new card, due `now`) in the same transaction; a retired question
        comes back."""
        ...

    async def reconcile_questions(self, current: Mapping[tuple[str, str], str], now: float) -> tuple[int, int]:
        """Bring the registered questions in line with the lessons: `current` maps (lesson, question) to its
        content hash.  Changed ones are reset (as above), missing ones retired; (reset, retired)."""
        ...

    async def question_cards(self, guild_id: int, question: int, user_ids: Sequence[int]) -> dict[int, CardRow]:
        """These members' cards for one question, by user id (a member who has none is left out)."""
        ...

    async def record_reviews(self, results: Sequence[CardResult]) -> None:
        """Save cards and their log entries (and the learners' activity) in one transaction."""
        ...

    async def due_cards(self, guild_id: int, user_id: int, now: float, limit: int) -> list[LearnerCard]:
        """Cards due at `now` of questions not retired, most overdue first."""
        ...

    async def review_load(self, guild_id: int, user_id: int, now: float) -> tuple[int, float | None]:
        """(cards due now, when the next one not yet due is due)."""
        ...

    async def learner_cards(self, guild_id: int, user_id: int, lesson_id: str | None = None) -> list[LearnerCard]:
        """The learner's cards of questions not retired (of one lesson when `lesson_id` is given)."""
        ...
    async def examples_run(self, guild_id: int, user_id: int) -> dict[str, set[str]]:
        """lesson id -> the example ids the learner ran."""
        ...

    async def lessons_done(self, guild_id: int, user_id: int) -> dict[str, float]: ...
    async def mark_done(self, guild_id: int, user_id: int, lesson_id: str, at: float) -> bool:
        """Record that the learner finished the lesson (once); True when this is the first time."""
        ...

    async def activity(self, user_id: int, since: float) -> list[float]:
        """The start of every quarter hour since `since` in which the learner did anything, in any server."""
        ...

    async def timezone(self, user_id: int) -> str | None: ...
    async def set_timezone(self, user_id: int, timezone: str, now: float) -> None: ...
    async def reminders_enabled(self, guild_id: int, user_id: int) -> bool: ...
    async def set_reminders(self, guild_id: int, user_id: int, enabled: bool, now: float) -> None: ...
    async def stop_reminders(self, user_id: int, now: float) -> int:
        """A learner's "stop": reminders off in every server; how many were on."""
        ...

    async def drop_reminders(self, guild_id: int, user_id: int) -> None:
        """The member left the server: no more reminders about it."""
        ...

    async def reminder_candidates(self, now: float, limit: int) -> list[ReminderCandidate]: ...
    async def reminder_sent(self, guild_id: int, user_id: int, at: float) -> None: ...
    async def set_recap_channel(self, guild_id: int, channel_id: int | None) -> None: ...
    async def recap_channels(self) -> list[tuple[int, int, float | None]]:
        """(guild_id, channel_id, last posted) of every server that chose a recap channel."""
        ...

    async def recap_posted(self, guild_id: int, at: float) -> None: ...
    async def recap(self, guild_id: int, since: float, until: float, limit: int = 5) -> RecapData: ...
    async def prune_review_log(self, before: float) -> int: ...
    async def forget_user(self, user_id: int) -> dict[str, int]:
        """/forget-me: delete everything about the learner, in every server, in one transaction; rows removed
        (or states scrubbed) per table."""
        ...
