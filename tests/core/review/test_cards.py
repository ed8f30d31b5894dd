"""Ratings from quiz answers, content hashes, and scheduling through fsrs with a fixed clock."""

from __future__ import annotations

from fsrs import Rating, State

from bot.core.review.cards import Outcome, Schedule, ScheduleSettings, content_hash, rating_for
from bot.core.storage import NEW_CARD_STATE, NEW_CARD_STEP
from tests.core.review.lessons import choice, lesson

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC
HOUR, DAY = 3600.0, 86400.0


def no_fuzz() -> Schedule:
    return Schedule(ScheduleSettings(fuzz=False))


def test_a_new_card_is_what_fsrs_calls_a_first_learning_step() -> None:
    assert State(NEW_CARD_STATE) is State.Learning and not NEW_CARD_STEP
    card = Schedule.new_card(1, 2, 3, T0)
    assert (card.state, card.step, card.due, card.reps, card.last_correct) == (State.Learning, 0, T0, 0, None)


def test_rating_for_each_kind_of_answer() -> None:
    schedule = no_fuzz()
    new = Schedule.new_card(1, 2, 3, T0)
    known = schedule.answer(new, Rating.Good, True, T0)  # right once before
    assert rating_for(Outcome(2, False, 1.0, 20.0), known) == Rating.Again
    assert rating_for(Outcome(2, True, 2.0, 20.0, hinted=True), known) == Rating.Hard
    assert rating_for(Outcome(2, True, 18.0, 20.0), known) == Rating.Hard  # last quarter of the window
    assert rating_for(Outcome(2, True, 10.0, 20.0), known) == Rating.Good
    assert rating_for(Outcome(2, True, None, None), known) == Rating.Good  # no timing known
    assert rating_for(Outcome(2, True, 3.0, 20.0), known) == Rating.Easy  # fast, and right the time before
    assert rating_for(Outcome(2, True, 3.0, 20.0), None) == Rating.Good  # fast on a first answer: maybe a guess
    wrong_before = schedule.answer(new, Rating.Again, False, T0)
    assert rating_for(Outcome(2, True, 3.0, 20.0), wrong_before) == Rating.Good


def test_a_wrong_answer_comes_back_sooner_than_a_right_one() -> None:
    schedule = no_fuzz()
    new = Schedule.new_card(1, 2, 3, T0)
    wrong = schedule.answer(new, Rating.Again, False, T0)
    right = schedule.answer(new, Rating.Good, True, T0)
    easy = schedule.answer(new, Rating.Easy, True, T0)
    assert wrong.due - T0 <= HOUR  # the learning step: 10 minutes
    assert right.due - T0 >= DAY  # graduated: days
    assert easy.due > right.due
    assert (wrong.reps, wrong.last_correct, right.last_correct) == (1, False, True)
    # later, a card in review that is forgotten comes back sooner than one remembered
    later = right.due
    forgot = schedule.answer(right, Rating.Again, False, later)
    kept = schedule.answer(right, Rating.Good, True, later)
    assert forgot.due - later <= HOUR < DAY <= kept.due - later
    assert kept.due - later > right.due - T0  # and the interval grows
    assert (forgot.lapses, kept.lapses) == (1, 0)


def test_fuzzing_spreads_due_dates_but_keeps_the_order() -> None:
    schedule = Schedule(ScheduleSettings(fuzz=True))
    new = Schedule.new_card(1, 2, 3, T0)
    card = schedule.answer(new, Rating.Good, True, T0)
    card = schedule.answer(card, Rating.Good, True, card.due)
    dues = {schedule.answer(card, Rating.Good, True, card.due).due for _ in range(30)}
    assert len(dues) > 1
    assert min(dues) > card.due + DAY


def test_content_hash_follows_what_is_asked_not_how_it_is_scored() -> None:
    base = lesson("l", questions=(choice("q", "Which one?"),))
    same = lesson("l", questions=(choice("q", "Which one?", points=5, explanation="other", hints=[{"text": "h"}]),))
    reworded = lesson("l", questions=(choice("q", "Which one, really?"),))
    other_answer = lesson("l", questions=(choice("q", "Which one?", answer="b"),))
    h = content_hash(base, base.quiz[0])
    assert h == content_hash(same, same.quiz[0])
    assert h != content_hash(reworded, reworded.quiz[0])
    assert h != content_hash(other_answer, other_answer.quiz[0])


def test_a_question_about_an_example_changes_with_its_code() -> None:
    first = lesson("l", questions=(choice("q", example="one"),))
    edited = first.model_copy(
        update={"examples": [first.examples[0].model_copy(update={"code": "print('changed')\n"})]}
    )
    assert content_hash(first, first.quiz[0]) != content_hash(edited, edited.quiz[0])
