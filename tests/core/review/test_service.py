"""`Learning` on both databases with a fixed clock: cards from quiz answers, reviews, lesson edits, the path,
streaks, reminders and recaps."""

from __future__ import annotations

import pytest
from fsrs import Rating

from bot.core.quiz import QuizError
from bot.core.review.cards import Outcome
from bot.core.review.service import Learning
from bot.core.storage import RunRecordRow
from tests.core.review.conftest import Clock, open_learning
from tests.core.review.lessons import Lessons, choice, lesson

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0
GUILD = 1


async def quiz(learning: Learning, course: Lessons, question: str, **answers: bool) -> None:
    """Members `u7=True, u8=False`, … answer `basics/<question>` in a quiz, each in 5 of 20 seconds."""
    basics = course.get("basics")
    found = basics.question(question)
    assert found is not None
    outcomes = [Outcome(int(user[1:]), right, 5.0, 20.0) for user, right in answers.items()]
    await learning.record_answers(GUILD, basics, found, outcomes)


async def due_ids(learning: Learning, user: int) -> list[str]:
    return [f"{item.lesson.id}/{item.question.id}" for item in await learning.due(GUILD, user)]


async def test_a_wrong_answer_comes_back_sooner_than_a_right_one(
    learning: Learning, course: Lessons, clock: Clock
) -> None:
    await quiz(learning, course, "q1", u7=False, u8=True)
    assert await due_ids(learning, 7) == [] == await due_ids(learning, 8)  # nothing is due right away
    clock.advance(11 * MINUTE)
    assert await due_ids(learning, 7) == ["basics/q1"]  # the wrong one: after the 10-minute step
    assert await due_ids(learning, 8) == []
    clock.advance(DAY)
    assert await due_ids(learning, 8) == []
    clock.advance(3 * DAY)
    assert await due_ids(learning, 8) == ["basics/q1"]  # the right one: days later


async def test_due_cards_appear_on_the_right_day_across_a_restart(storage_url: str, course: Lessons) -> None:
    clock = Clock()
    storage, learning = open_learning(storage_url, course, clock)
    await storage.open()
    await quiz(learning, course, "q1", u7=True)
    [card] = [c.card for c in await storage.learner_cards(GUILD, 7)]
    await storage.close()
    assert card.due - clock.now >= DAY

    clock.now = card.due - HOUR  # the bot restarts the day before: nothing is due yet
    storage, learning = open_learning(storage_url, course, clock)
    await storage.open()
    try:
        assert await due_ids(learning, 7) == []
        assert await storage.review_load(GUILD, 7, clock.now) == (0, card.due)
        clock.now = card.due + MINUTE
        assert await due_ids(learning, 7) == ["basics/q1"]
        assert await storage.review_load(GUILD, 7, clock.now) == (1, None)
    finally:
        await storage.close()


async def test_a_review_answer_reschedules_the_card(learning: Learning, course: Lessons, clock: Clock) -> None:
    await quiz(learning, course, "q1", u7=False)
    clock.advance(11 * MINUTE)
    [item] = await learning.due(GUILD, 7)
    assert (item.lesson.id, item.question.id, item.card.reps, item.card.last_correct) == ("basics", "q1", 1, False)
    with pytest.raises(QuizError, match=r"quiz\.answer\.not_a_choice"):
        await learning.answer(GUILD, 7, "basics", "q1", ["z"])
    wrong = await learning.answer(GUILD, 7, "basics", "q1", ["b"], seconds=4.0)
    assert (wrong.correct, wrong.rating) == (False, Rating.Again)
    assert wrong.card.due - clock.now <= 15 * MINUTE and wrong.card.reps == 2
    clock.advance(11 * MINUTE)
    right = await learning.answer(GUILD, 7, "basics", "q1", ["a"], seconds=4.0)
    assert (right.correct, right.rating) == (True, Rating.Good)
    assert right.card.due - clock.now >= DAY
    assert await due_ids(learning, 7) == []
    rows = await learning.storage.fetch("SELECT source, correct, rating FROM review_log ORDER BY id")
    assert [tuple(r) for r in rows] == [("quiz", 0, 1), ("review", 0, 1), ("review", 1, 3)]
    with pytest.raises(QuizError, match=r"review\.question_gone"):
        await learning.answer(GUILD, 7, "basics", "gone", ["a"])


async def test_cards_follow_lesson_edits(learning: Learning, course: Lessons, clock: Clock) -> None:
    await quiz(learning, course, "q1", u7=True, u8=True)
    await quiz(learning, course, "q2", u7=True)
    basics = course.get("basics")
    q2 = basics.quiz[1]
    # an author rewords q1 and deletes q2
    course.put(lesson("basics", tags=("basics",), examples=("a", "b"), questions=(choice("q1", "Reworded?"),)))
    clock.advance(HOUR)
    assert await learning.reconcile() == (1, 1)
    assert await learning.reconcile() == (0, 0)
    assert await due_ids(learning, 7) == ["basics/q1"] == await due_ids(learning, 8)  # reset: new, due now
    cards = await learning.storage.learner_cards(GUILD, 7)
    assert [(c.question_id, c.card.reps, c.card.last_correct) for c in cards] == [("q1", 0, None)]  # q2 retired
    # q2 comes back unchanged: its card returns as it was
    course.put(basics.model_copy(update={"quiz": [course.get("basics").quiz[0], q2]}))
    assert await learning.reconcile() == (0, 0)
    cards = await learning.storage.learner_cards(GUILD, 7)
    assert [(c.question_id, c.card.reps) for c in cards] == [("q1", 0), ("q2", 1)]


async def test_an_edit_is_noticed_by_the_next_answer_too(
    learning: Learning, course: Lessons, clock: Clock
) -> None:
    await quiz(learning, course, "q1", u7=True, u8=True)
    course.put(lesson("basics", tags=("basics",), examples=("a", "b"), questions=(choice("q1", answer="b"),)))
    clock.advance(HOUR)
    await quiz(learning, course, "q1", u7=True)  # no reconcile in between
    cards = {user: (await learning.storage.learner_cards(GUILD, user))[0].card for user in (7, 8)}
    assert cards[7].reps == 1  # reset, then this answer
    assert (cards[8].reps, cards[8].due) == (0, clock.now)  # reset: due now


async def test_the_path_records_a_lesson_done_and_recommends_the_next(
    learning: Learning, course: Lessons, clock: Clock
) -> None:
    path = await learning.path(GUILD, 7)
    assert path.next is not None and path.next.lesson_id == "basics" and path.done == 0
    for example in ("a", "b"):
        await learning.storage.record_run(RunRecordRow(GUILD, 7, "basics", example, "ok", 0.1))
    assert await learning.record_run(GUILD, 7) == []  # runs alone are not enough
    await quiz(learning, course, "q1", u7=True)
    assert (await learning.path(GUILD, 7)).with_status("in_progress")[0].lesson_id == "basics"
    await quiz(learning, course, "q2", u7=True)  # 2/2 right: done, recorded by the answer
    assert await learning.storage.lessons_done(GUILD, 7) == {"basics": clock.now}
    path = await learning.path(GUILD, 7)
    assert [s.status for s in path.lessons] == ["done", "available"]
    assert path.next is not None and (path.next.lesson_id, path.next.prerequisites) == ("tasks", ("basics",))
    assert await learning.storage.lessons_done(GUILD, 8) == {}  # per learner
    assert await learning.storage.lessons_done(2, 7) == {}  # and per server


async def test_streak_counts_days_in_the_learners_zone(learning: Learning, course: Lessons, clock: Clock) -> None:
    clock.now = 1_767_308_400.0  # 2026-01-01 23:00 UTC = 2026-01-02 07:00 in Shanghai
    await quiz(learning, course, "q1", u7=True)
    clock.advance(2 * HOUR)  # 01:00 UTC on the 2nd = 09:00 in Shanghai
    await quiz(learning, course, "q2", u7=True)
    assert (await learning.streak(7)).current == 2  # UTC: the 1st and the 2nd
    assert await learning.set_timezone(7, "asia/shanghai") == "Asia/Shanghai"
    assert await learning.timezone(7) == "Asia/Shanghai"
    shanghai = await learning.streak(7)
    assert (shanghai.current, shanghai.days, shanghai.today) == (1, 1, True)  # both on the 2nd there
    summary = await learning.summary(GUILD, 7)
    assert (summary.timezone, summary.streak.current, summary.due) == ("Asia/Shanghai", 1, 0)
    assert summary.next_due is not None and summary.next_due > clock.now


async def test_reminders_need_opt_in_and_due_cards_come_once_a_day_and_stop(
    learning: Learning, course: Lessons, clock: Clock
) -> None:
    await quiz(learning, course, "q1", u7=False, u8=False)  # at 09:00 UTC
    clock.now += 9 * HOUR + 5 * MINUTE  # 18:05 UTC: cards due, past the reminder hour
    assert await learning.reminders_due() == []  # nobody opted in
    await learning.set_reminders(GUILD, 7, True)
    await learning.set_reminders(GUILD, 8, True)
    assert [(c.user_id, c.due) for c in await learning.reminders_due()] == [(7, 1), (8, 1)]
    await learning.reminded(GUILD, 7)
    assert [c.user_id for c in await learning.reminders_due()] == [8]  # 7 had today's
    assert await learning.stop_reminders(8) == 1  # 8 says "stop"
    assert await learning.reminders_due() == []
    clock.advance(DAY)
    assert [c.user_id for c in await learning.reminders_due()] == [7]  # a new day; 8 stays stopped
    await learning.storage.drop_reminders(GUILD, 7)  # 7 left the server
    assert await learning.reminders_due() == []
    assert not await learning.storage.reminders_enabled(GUILD, 7)


async def test_weekly_recap(learning: Learning, course: Lessons, clock: Clock) -> None:
    await quiz(learning, course, "q1", u7=True, u8=False, u9=False)
    await quiz(learning, course, "q2", u7=True, u8=True, u9=True)
    for example in ("a", "b"):
        await learning.storage.record_run(RunRecordRow(GUILD, 7, "basics", example, "ok", 0.1))
    await learning.record_run(GUILD, 7)
    clock.advance(DAY)
    recap = await learning.recap(GUILD)
    assert recap.top[:3] == [(7, 2, 2), (8, 1, 2), (9, 1, 2)]
    assert recap.learners == 3 and recap.lessons_done == [("basics", 1)]
    assert recap.most_missed is not None
    assert (recap.most_missed.lesson_id, recap.most_missed.question_id) == ("basics", "q1")
    assert (recap.most_missed.missed, recap.most_missed.answered) == (2, 3)
    assert (await learning.recap(2)).top == []  # another server's week is its own
    clock.advance(8 * DAY)
    empty = await learning.recap(GUILD)
    assert (empty.top, empty.learners, empty.most_missed) == ([], 0, None)


async def test_the_answer_log_is_pruned_after_log_days(learning: Learning, course: Lessons, clock: Clock) -> None:
    await quiz(learning, course, "q1", u7=True)
    clock.advance(200 * DAY)
    await quiz(learning, course, "q2", u7=True)
    clock.advance(200 * DAY)
    assert await learning.prune() == 1  # the first answer is over 365 days old
    assert len(await learning.storage.fetch("SELECT id FROM review_log")) == 1
    assert len(await learning.storage.learner_cards(GUILD, 7)) == 2  # cards stay


async def test_a_review_that_completes_a_lesson_says_so(learning: Learning, course: Lessons, clock: Clock) -> None:
    for example in ("a", "b"):
        await learning.storage.record_run(RunRecordRow(GUILD, 7, "basics", example, "ok", 0.1))
    await quiz(learning, course, "q1", u7=True)
    await quiz(learning, course, "q2", u7=False)  # 1/2 right: not yet
    assert await learning.storage.lessons_done(GUILD, 7) == {}
    clock.advance(11 * MINUTE)
    first = await learning.answer(GUILD, 7, "basics", "q2", ["b"])
    assert first.newly_done == []
    clock.advance(11 * MINUTE)
    done = await learning.answer(GUILD, 7, "basics", "q2", ["a"])
    assert done.newly_done == ["basics"] and await learning.storage.lessons_done(GUILD, 7) == {"basics": clock.now}
    clock.advance(DAY * 5)
    again = await learning.answer(GUILD, 7, "basics", "q2", ["a"])
    assert again.newly_done == []  # once
