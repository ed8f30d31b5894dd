"""Study sessions: host-only controls, membership, quiz inside a session, summary, restore after restart."""

from __future__ import annotations

import json

import pytest

from bot.core.lessons import Lesson
from bot.core.sessions import NotHost, SessionEnded, SessionError, SessionStatus, StudySession

LESSON = Lesson.model_validate(
    {
        "id": "demo",
        "title": {"en": "Demo", "zh-CN": "演示"},
        "sections": [{"title": "One", "body": "1"}, {"title": "Two", "body": "2"}],
        "examples": [{"id": "two", "code": "print('Hello')\n"}],
        "quiz": [
            {"id": "q1", "type": "choice", "prompt": "p", "explanation": "e", "choices": ["a", "b"], "answer": "a"},
            {"id": "q2", "type": "predict_output", "prompt": "p", "explanation": "e", "answer": ["x", "y"]},
        ],
    }
)
HOST, ANN, BOB = 1, 2, 3


def test_full_session_start_join_next_run_quiz_end() -> None:
    s = StudySession("s1", LESSON, HOST, started_at=1000.0)
    assert s.join(ANN, 1001.0) and not s.join(ANN, 1002.0)
    s.join(BOB, 1003.0)
    assert s.next_section(HOST) == 0 and s.next_section(HOST) == 1 and s.next_section(HOST) == 1
    s.record_example(HOST, "two")
    s.ask_question(HOST, 1010.0)
    s.answer(ANN, "a", 1011.0)
    s.answer(BOB, "b", 1012.0)
    assert s.reveal().correct_users == [ANN]
    s.ask_question(HOST, 1020.0)
    s.answer(BOB, ["x", "y"], 1021.0)
    summary = s.end(HOST, 1100.0)
    assert summary.duration == 100.0
    assert summary.questions == 2
    assert set(summary.participants) == {HOST, ANN, BOB}
    by_user = {m.user_id: m for m in summary.members}
    assert (by_user[ANN].answered, by_user[ANN].correct, by_user[ANN].accuracy) == (1, 1, 1.0)
    assert (by_user[BOB].answered, by_user[BOB].correct) == (2, 1)
    assert by_user[HOST].accuracy is None
    with pytest.raises(SessionEnded):
        s.join(4, 1200.0)


def test_non_host_is_refused_admin_allowed() -> None:
    s = StudySession("s1", LESSON, HOST, started_at=0.0)
    for action in (lambda: s.next_section(ANN), lambda: s.pause(ANN, 1.0), lambda: s.end(ANN, 1.0)):
        with pytest.raises(NotHost):
            action()
    assert s.next_section(ANN, is_admin=True) == 0


def test_pause_blocks_controls_until_resume() -> None:
    s = StudySession("s1", LESSON, HOST, started_at=0.0)
    s.pause(HOST, 5.0)
    assert s.status is SessionStatus.PAUSED
    with pytest.raises(SessionError, match="paused"):
        s.next_section(HOST)
    s.resume(HOST, 6.0)
    assert s.next_section(HOST) == 0


def test_state_round_trips_through_json_with_an_open_question() -> None:
    s = StudySession("s1", LESSON, HOST, started_at=1000.0)
    s.join(ANN, 1001.0)
    s.next_section(HOST)
    s.ask_question(HOST, 1010.0)
    s.answer(ANN, "a", 1011.0)
    s.answer(BOB, "b", 1012.0)
    state = json.loads(json.dumps(s.to_state()))
    restored = StudySession.from_state(state, LESSON)
    assert restored.section == 0
    assert set(restored.present()) == {HOST, ANN, BOB}
    rnd = restored.quiz.current
    assert rnd is not None and not rnd.closed
    # the window passed while the bot was down: the caller sees it closed and reveals it
    assert not rnd.is_open(now=1010.0 + rnd.duration + 1)
    reveal = restored.reveal()
    assert reveal.correct_users == [ANN] and reveal.distribution == {"a": 1, "b": 1}
    restored.ask_question(HOST, 2000.0)
    restored.answer(ANN, ["y", "x"], 2001.0)
    assert restored.end(HOST, 2100.0).questions == 2


def test_step_comes_from_the_section_then_the_session_and_stops_when_paused_or_at_the_end() -> None:
    paced = LESSON.model_copy(
        update={
            "sections": [
                LESSON.sections[0].model_copy(update={"duration": 5.0}),
                LESSON.sections[1],
                LESSON.sections[1],
            ]
        }
    )
    lesson_only = StudySession("s1", paced, HOST, started_at=0.0)
    assert lesson_only.step() is None  # the title card waits for the host
    lesson_only.next_section(HOST)
    assert lesson_only.step() == 5.0
    lesson_only.next_section(HOST)
    assert lesson_only.step() is None  # no duration here, none from the command

    both = StudySession("s2", paced, HOST, started_at=0.0, auto_advance=30.0)
    assert both.step() == 30.0
    both.next_section(HOST)
    assert both.step() == 5.0  # the section's own duration wins
    both.pause(HOST, 1.0)
    assert both.step() is None
    both.resume(HOST, 2.0)
    both.next_section(HOST)
    assert both.step() == 30.0
    both.next_section(HOST)
    assert both.step() is None  # the last section: nothing to advance to


def test_run_takes_the_sections_own_example_else_the_examples_in_turn() -> None:
    two = LESSON.examples[0].model_copy(update={"id": "second"})
    lesson = LESSON.model_copy(
        update={
            "examples": [LESSON.examples[0], two],
            "sections": [LESSON.sections[0].model_copy(update={"example": "second"}), LESSON.sections[1]],
        }
    )
    s = StudySession("s1", lesson, HOST, started_at=0.0)
    assert s.current_example() == "two"  # the title card: in turn
    s.record_example(HOST, "two")
    s.next_section(HOST)
    assert s.current_example() == "second"  # section One names it
    s.next_section(HOST)
    assert s.current_example() == "second"  # section Two names none: in turn (one run so far)
    s.record_example(HOST, "second")
    assert s.current_example() == "two"
