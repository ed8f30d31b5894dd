"""The quiz state machine: answering, changing, late answers, hints, scoring, the revealed distribution."""

from __future__ import annotations

import pytest

from bot.core.lessons import Lesson, PredictOutputQuestion
from bot.core.quiz import (
    AnswerWay,
    InvalidAnswer,
    QuizError,
    QuizGame,
    WindowClosed,
    answer_text,
    answer_way,
    canonical_answer,
    choice_at,
    correct_text,
    lines_in_order,
    normalize_text,
    offered,
    offered_lines,
    parse_numbers,
    parse_seconds,
)

LESSON = Lesson.model_validate(
    {
        "id": "demo",
        "title": "Demo",
        "examples": [{"id": "two", "code": "print('Hello')\nprint('World')\n"}],
        "quiz": [
            {
                "id": "pick",
                "type": "choice",
                "prompt": "How long?",
                "explanation": "They overlap.",
                "choices": ["1 s", "2 s", "3 s"],
                "answer": "1 s",
                "hints": [{"text": "overlap", "cost": 3}],
                "points": 10,
            },
            {
                "id": "multi",
                "type": "choice",
                "prompt": "Which run concurrently?",
                "explanation": "both",
                "choices": ["gather", "create_task", "sequential await"],
                "answer": ["gather", "create_task"],
            },
            {
                "id": "order",
                "type": "predict_output",
                "prompt": "Order the lines",
                "explanation": "Hello first",
                "answer": ["Hello", "World"],
                "example": "two",
            },
            {
                "id": "time",
                "type": "predict_time",
                "prompt": "Seconds?",
                "explanation": "1 s",
                "answer": 1.0,
                "tolerance": 0.2,
            },
            {
                "id": "word",
                "type": "text",
                "prompt": "Keyword to wait?",
                "explanation": "await",
                "answers": ["await"],
                "fuzzy": 0.8,
            },
        ],
    }
)


def game(**kw) -> QuizGame:
    return QuizGame("demo", list(LESSON.quiz), **kw)


def test_three_users_one_changes_one_late_one_twice() -> None:
    g = game()
    rnd = g.next_question(now=100.0)
    rnd.answer(1, "1 s", now=101.0)
    rnd.answer(2, "3 s", now=102.0)
    rnd.answer(2, "1 s", now=103.0)  # changes to the right answer
    rnd.answer(3, "2 s", now=104.0)
    rnd.answer(3, "2 s", now=105.0)  # answers twice: still one answer
    with pytest.raises(WindowClosed):
        rnd.answer(4, "1 s", now=131.0)  # late
    reveal = g.close_current()
    assert reveal.distribution == {"1 s": 2, "2 s": 1}
    assert reveal.late == 1
    assert sorted(reveal.correct_users) == [1, 2]
    assert {s.user_id: s.total for s in reveal.scores} == {1: 10, 2: 10, 3: 0}
    assert rnd.submissions[2].changes == 1 and rnd.submissions[3].changes == 1


def test_hints_cost_points_once_and_closed_round_refuses() -> None:
    g = game()
    rnd = g.next_question(now=0.0)
    text, cost = rnd.take_hint(7, 0, now=1.0)
    rnd.take_hint(7, 0, now=2.0)
    assert (text, cost) == ("overlap", 3)
    rnd.answer(7, "1 s", now=3.0)
    reveal = g.close_current()
    assert reveal.scores[0].total == 7
    with pytest.raises(WindowClosed):
        rnd.answer(8, "1 s", now=4.0)


def test_speed_bonus_rewards_early_answers() -> None:
    g = game(speed_bonus=True)
    rnd = g.next_question(now=0.0, duration=10)
    rnd.answer(1, "1 s", now=1.0)
    rnd.answer(2, "1 s", now=9.0)
    scores = {s.user_id: s.total for s in g.close_current().scores}
    assert scores[1] > scores[2] > 0


def test_choice_validation_and_multi_select() -> None:
    g = game()
    g.next_question(now=0)
    with pytest.raises(InvalidAnswer):
        g.current.answer(1, "4 s", now=1)
    with pytest.raises(InvalidAnswer):
        g.current.answer(1, ["1 s", "2 s"], now=1)
    g.close_current()
    rnd = g.next_question(now=10)
    rnd.answer(1, ["create_task", "gather"], now=11)
    rnd.answer(2, ["gather"], now=11)
    reveal = g.close_current()
    assert reveal.correct_users == [1]
    assert reveal.distribution == {"gather + create_task": 1, "gather": 1}


def test_predict_output_time_and_text() -> None:
    g = game()
    for _ in range(2):
        g.next_question(now=0)
        g.close_current()
    rnd = g.next_question(now=0)
    rnd.answer(1, ["Hello", "World"], now=1)
    rnd.answer(2, ["World", "Hello"], now=1)
    with pytest.raises(InvalidAnswer):
        rnd.answer(3, ["Hello", "Hello"], now=1)
    assert g.close_current().correct_users == [1]
    rnd = g.next_question(now=0)
    rnd.answer(1, "1.1s", now=1)
    rnd.answer(2, "1500ms", now=1)
    assert g.close_current().correct_users == [1]
    rnd = g.next_question(now=0)
    rnd.answer(1, "  AWAIT! ", now=1)
    rnd.answer(2, "awiat", now=2)  # fuzzy enough
    rnd.answer(3, "yield", now=3)
    assert sorted(g.close_current().correct_users) == [1, 2]
    assert g.finished
    board = g.scoreboard()
    assert board[0][0] == 1 and board[0][2] == 3


def test_game_order_is_enforced() -> None:
    g = game()
    with pytest.raises(QuizError):
        g.close_current()
    g.next_question(now=0)
    with pytest.raises(QuizError):
        g.next_question(now=1)


def test_normalizers() -> None:
    assert normalize_text("Hello,  World!") == "hello world"
    assert parse_seconds("2 s") == 2.0 and parse_seconds("1,5") == 1.5
    with pytest.raises(InvalidAnswer):
        parse_seconds("soon")


def test_errors_carry_an_id_and_a_short_quote_of_the_input() -> None:
    g = game()
    rnd = g.next_question(now=0)
    with pytest.raises(InvalidAnswer) as caught:
        rnd.answer(1, "4 s", now=1)
    assert caught.value.message_id == "quiz.answer.not_a_choice"
    assert caught.value.params["given"] == "4 s"
    assert [c.get() for c in caught.value.params["choices"]] == ["1 s", "2 s", "3 s"]
    with pytest.raises(InvalidAnswer) as long:
        parse_seconds("9" * 3000 + " minutes")
    assert long.value.message_id == "quiz.answer.not_seconds"
    assert len(str(long.value.params["given"])) <= 60
    with pytest.raises(WindowClosed) as closed:
        rnd.answer(1, "1 s", now=100)
    assert closed.value.message_id == "quiz.window_closed" and closed.value.params == {}


def test_choice_at_names_the_choices_when_out_of_range() -> None:
    pick, _multi, order, time_q, _word = LESSON.quiz
    assert choice_at(pick, 1) == "2 s"
    with pytest.raises(InvalidAnswer) as caught:
        choice_at(pick, 7)
    assert caught.value.message_id == "quiz.answer.no_such_choice" and caught.value.params["choices"]
    with pytest.raises(InvalidAnswer) as wrong_kind:
        choice_at(order, 0)
    assert wrong_kind.value.message_id == "quiz.answer.not_choices"
    with pytest.raises(InvalidAnswer):
        choice_at(time_q, 0)  # a predict_time without choices is answered with seconds


def test_offered_lines_answer_texts_and_numbers_are_the_cores() -> None:
    pick, multi, order, time_q, word = LESSON.quiz
    assert isinstance(order, PredictOutputQuestion)
    offered = offered_lines(order)
    assert sorted(offered) == ["Hello", "World"] and offered == offered_lines(order)  # the same for everyone
    typed = " ".join(str(offered.index(line) + 1) for line in ["World", "Hello"])
    assert lines_in_order(order, typed) == ["World", "Hello"]
    assert parse_numbers("2, 1", 3) == [1, 0]
    for bad in ("", "0", "4", "1 x"):
        with pytest.raises(InvalidAnswer):
            parse_numbers(bad, 3)
    with pytest.raises(InvalidAnswer):
        parse_numbers("1 2", 3, single=True)
    assert canonical_answer(pick) == ("1 s",) and canonical_answer(order) == ("Hello", "World")
    assert canonical_answer(time_q) == 1.0 and canonical_answer(word) == "await"
    assert correct_text(multi) == "gather + create_task" and correct_text(order) == "Hello → World"
    assert correct_text(time_q) == "1 s (± 0.2)" and correct_text(word) == "await"
    assert answer_text(pick, ("1 s",)) == "1 s" and answer_text(time_q, 1.5) == "1.5 s"


def test_every_question_has_one_way_to_be_answered_and_one_list_of_what_it_offers() -> None:
    pick, multi, order, time_q, word = LESSON.quiz
    assert [answer_way(q) for q in LESSON.quiz] == [
        AnswerWay.PICK_ONE,
        AnswerWay.PICK_SEVERAL,
        AnswerWay.ORDER,
        AnswerWay.SECONDS,
        AnswerWay.TEXT,
    ]
    assert offered(pick) == ["1 s", "2 s", "3 s"] and offered(multi)[0] == "gather"
    assert sorted(offered(order)) == ["Hello", "World"] and offered(time_q) == offered(word) == []


def test_forget_takes_a_member_out_of_a_running_game() -> None:
    g = game()
    rnd = g.next_question(now=100.0)
    rnd.answer(1, "1 s", now=101.0)
    rnd.answer(2, "1 s", now=102.0)
    g.close_current()
    rnd = g.next_question(now=200.0)
    rnd.answer(1, ["gather"], now=201.0)
    rnd.hints_taken[1] = {0}
    rnd.answer(2, ["gather", "create_task"], now=202.0)
    g.forget(1)
    assert 1 not in rnd.submissions and 1 not in rnd.hints_taken
    assert 1 not in g.totals and 1 not in g.answered and 1 not in g.right
    assert [row[0] for row in g.scoreboard()] == [2]
    assert [s.user_id for s in g.close_current().scores] == [2]  # the game goes on for the others
    state = g.to_state()
    assert "1" not in state["totals"] and all(sub[0] != 1 for sub in state["current"]["submissions"])
