"""Study-group sessions as a pure state machine: a host walks a group through one lesson.

No I/O and no discord: users are int ids, time is passed in (unix seconds, so a session restored from the
database after a restart keeps its clock), errors are domain exceptions.  `to_state()` / `from_state()`
give the JSON the storage keeps; the quiz questions asked in a session are plain `QuizGame` rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.errors import CorobotError
from bot.core.lessons import Lesson
from bot.core.quiz import QuestionRound, QuizGame, Reveal, Submission


class SessionError(CorobotError):
    """A session action that can't be taken: `SessionError("session.…", **params)`."""

    def __init__(self, message_id: str, **params: object) -> None:
        super().__init__(message_id=message_id, params=params)


class NotHost(SessionError):
    def __init__(self) -> None:
        super().__init__("session.not_host")


class SessionEnded(SessionError):
    def __init__(self) -> None:
        super().__init__("session.ended")


class SessionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


@dataclass(slots=True)
class Member:
    user_id: int
    joined_at: float
    left_at: float | None = None

    @property
    def present(self) -> bool:
        return self.left_at is None


@dataclass(frozen=True, slots=True)
class MemberSummary:
    user_id: int
    answered: int
    correct: int
    points: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    duration: float
    participants: list[int]
    questions: int
    members: list[MemberSummary]  # best first


@dataclass(slots=True)
class StudySession:
    id: str
    lesson: Lesson
    host_id: int
    started_at: float
    auto_advance: float | None = None  # seconds per step, or None
    status: SessionStatus = SessionStatus.ACTIVE
    section: int = -1  # -1 = the title card, before the first section
    members: dict[int, Member] = field(default_factory=dict)
    quiz: QuizGame = field(init=False)
    examples_run: list[str] = field(default_factory=list)
    ended_at: float | None = None
    paused_at: float | None = None

    def __post_init__(self) -> None:
        self.quiz = QuizGame(self.lesson.id, list(self.lesson.quiz))
        self.members.setdefault(self.host_id, Member(self.host_id, self.started_at))

    # -- membership --------------------------------------------------------------------------------------

    def join(self, user_id: int, now: float) -> bool:
        """True when the user was not already present."""
        self._require_open()
        member = self.members.get(user_id)
        if member is not None and member.present:
            return False
        self.members[user_id] = Member(user_id, now)
        return True

    def leave(self, user_id: int, now: float) -> bool:
        member = self.members.get(user_id)
        if member is None or not member.present:
            return False
        member.left_at = now
        return True

    def present(self) -> list[int]:
        return [m.user_id for m in self.members.values() if m.present]

    # -- host controls -----------------------------------------------------------------------------------

    def check_host(self, user_id: int, *, is_admin: bool = False) -> None:
        if user_id != self.host_id and not is_admin:
            raise NotHost()

    def next_section(self, user_id: int, *, is_admin: bool = False) -> int:
        """Advance to the next section; returns its index (stays on the last one)."""
        self.check_host(user_id, is_admin=is_admin)
        self._require_running()
        if self.section + 1 < len(self.lesson.sections):
            self.section += 1
        return self.section

    def current_example(self) -> str:
        """The example a Run press runs: the current section's own, else the lesson's examples in turn."""
        if 0 <= self.section < len(self.lesson.sections) and (own := self.lesson.sections[self.section].example):
            return own
        examples = self.lesson.examples
        return examples[len(self.examples_run) % len(examples)].id

    def step(self) -> float | None:
        """Seconds to stay on the current step before auto-advancing: the section's own `duration`, else
        the session's `auto_advance`; None when paused, ended, on the last section, or nothing is set (the
        title card uses `auto_advance` only: the host starts a lesson that paces itself)."""
        if self.status is not SessionStatus.ACTIVE or self.section + 1 >= len(self.lesson.sections):
            return None
        if self.section >= 0 and (duration := self.lesson.sections[self.section].duration) is not None:
            return duration
        return self.auto_advance

    def previous_section(self, user_id: int, *, is_admin: bool = False) -> int:
        self.check_host(user_id, is_admin=is_admin)
        self._require_running()
        self.section = max(0, self.section - 1)
        return self.section

    def record_example(self, user_id: int, example_id: str, *, is_admin: bool = False) -> None:
        self.check_host(user_id, is_admin=is_admin)
        self._require_running()
        if self.lesson.example(example_id) is None:
            raise SessionError("lesson.unknown_example", lesson=self.lesson.id, example=example_id)
        self.examples_run.append(example_id)

    def ask_question(
        self, user_id: int, now: float, *, is_admin: bool = False, duration: float | None = None
    ) -> QuestionRound:
        self.check_host(user_id, is_admin=is_admin)
        self._require_running()
        return self.quiz.next_question(now, duration)

    def answer(self, user_id: int, raw: Any, now: float) -> Submission:
        """Any member may answer; answering joins a passer-by to the session."""
        self._require_open()
        if self.quiz.current is None:
            raise SessionError("quiz.none_open")
        if user_id not in self.members or not self.members[user_id].present:
            self.join(user_id, now)
        return self.quiz.current.answer(user_id, raw, now)

    def reveal(self) -> Reveal:
        return self.quiz.close_current()

    def pause(self, user_id: int, now: float, *, is_admin: bool = False) -> None:
        self.check_host(user_id, is_admin=is_admin)
        self._require_running()
        self.status = SessionStatus.PAUSED
        self.paused_at = now

    def resume(self, user_id: int, now: float, *, is_admin: bool = False) -> None:
        self.check_host(user_id, is_admin=is_admin)
        if self.status is not SessionStatus.PAUSED:
            raise SessionError("session.not_paused")
        self.status = SessionStatus.ACTIVE
        self.paused_at = None

    def end(self, user_id: int, now: float, *, is_admin: bool = False) -> SessionSummary:
        self.check_host(user_id, is_admin=is_admin)
        self._require_open()
        if self.quiz.current is not None and not self.quiz.current.closed:
            self.quiz.close_current()
        self.status = SessionStatus.ENDED
        self.ended_at = now
        for member in self.members.values():
            if member.present:
                member.left_at = now
        return self.summary()

    def summary(self) -> SessionSummary:
        end = self.ended_at if self.ended_at is not None else self.started_at
        rows = [
            MemberSummary(uid, self.quiz.answered[uid], self.quiz.right[uid], self.quiz.totals[uid])
            for uid in self.members
        ]
        rows.sort(key=lambda r: (-r.points, -r.correct, r.user_id))
        return SessionSummary(end - self.started_at, list(self.members), self.quiz.revealed, rows)

    def _require_open(self) -> None:
        if self.status is SessionStatus.ENDED:
            raise SessionEnded()

    def _require_running(self) -> None:
        self._require_open()
        if self.status is SessionStatus.PAUSED:
            raise SessionError("session.paused")

    # -- persistence -------------------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "lesson": self.lesson.id,
            "host": self.host_id,
            "started_at": self.started_at,
            "auto_advance": self.auto_advance,
            "status": str(self.status),
            "section": self.section,
            "examples_run": self.examples_run,
            "ended_at": self.ended_at,
            "members": [[m.user_id, m.joined_at, m.left_at] for m in self.members.values()],
            "quiz": self.quiz.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], lesson: Lesson) -> StudySession:
        session = cls(state["id"], lesson, int(state["host"]), float(state["started_at"]), state.get("auto_advance"))
        session.status = SessionStatus(state["status"])
        session.section = int(state["section"])
        session.examples_run = list(state["examples_run"])
        session.ended_at = state.get("ended_at")
        session.members = {int(u): Member(int(u), float(j), left) for u, j, left in state["members"]}
        session.quiz = QuizGame.from_state(state["quiz"], lesson.id, list(lesson.quiz))
        return session
