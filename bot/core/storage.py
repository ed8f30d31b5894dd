"""The storage protocol the core depends on; `bot/storage/sqlite.py` (the default) and
`bot/storage/postgres.py` implement it, chosen by `storage.url`.

Everything is scoped by guild (0 = the console).  Answers are keyed by (quiz, question, user), so a
member who answers twice, or fifty members answering at once, are each recorded exactly once.  Every method
raises a `bot.core.errors.StorageError` subclass when the database fails (full, read-only, locked, gone,
damaged; `StorageConflict` for a second active session in a channel): reads keep working through a write
fault, and nothing committed before is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Period = Literal["week", "month", "all"]


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
class LearnerRunRow:
    """One run of a learner's own code, for moderation: who, where, and a hash of the code (never the code)."""

    id: str
    guild_id: int
    channel_id: int
    user_id: int
    kind: str  # try | message | edit | exercise
    source: str  # lesson/example or lesson/exercise it started from ("" for /try and messages)
    code_sha256: str
    code_chars: int
    stdin_chars: int
    started_at: float  # unix time


class LearnerStorage(Protocol):
    """What learner code needs of the storage: the last version per learner and example (or exercise), the
    moderation log of learner runs, the admins' off switch, exercise points, and the storage-backed quota."""

    async def save_learner_code(self, user_id: int, kind: str, lesson_id: str, item_id: str, code: str) -> None: ...
    async def learner_code(self, user_id: int, kind: str, lesson_id: str, item_id: str) -> str | None: ...
    async def log_learner_run(self, row: LearnerRunRow) -> None: ...
    async def finish_learner_run(self, run_id: str, status: str, elapsed: float, passed: bool | None) -> None: ...
    async def learner_tries(self, guild_id: int, user_id: int, kind: str, source: str) -> tuple[int, int]:
        """(graded tries, passed tries) of a learner at one exercise."""
        ...

    async def set_learner_policy(self, guild_id: int, channel_id: int, enabled: bool, set_by: int) -> None: ...
    async def learner_policy(self, guild_id: int) -> dict[int, bool]:
        """Channel id (0: the whole server) -> whether learner code may run there, as admins set it."""
        ...

    async def award_exercise(
        self, guild_id: int, user_id: int, lesson_id: str, exercise_id: str, points: int, code_sha256: str
    ) -> bool:
        """Record a passed exercise with its points as a scored answer (so progress and the leaderboard count
        it); True the first time, False when that member had already passed it in that server."""
        ...

    async def quota_uses(self, scopes: Sequence[str], since: float) -> dict[str, list[float]]: ...
    async def add_quota_use(self, scopes: Sequence[str], at: float) -> None: ...
    async def forget_quota_uses(self, before: float) -> None: ...


class Storage(LearnerStorage, Protocol):
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
