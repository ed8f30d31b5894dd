"""The spaced-review queries on both databases: questions and their resets, cards, due order, lessons done,
activity, time zones, reminders, recap channels, transactions."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.errors import StorageError
from bot.core.storage import AnswerRow, CardResult, CardRow, ReviewLogRow, RunRecordRow
from bot.storage.primitives import Tx
from bot.storage.review import SLOT_SECONDS
from bot.storage.sql import SqlStorage

T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC


def card(user: int, question: int, due: float, *, guild: int = 1, reps: int = 1, right: bool = True) -> CardRow:
    return CardRow(guild, user, question, 2, None, 3.5, 5.0, due, due - 86400, reps, 0, right)


def result(c: CardRow, at: float = T0) -> CardResult:
    return CardResult(c, ReviewLogRow(c.guild_id, c.user_id, c.question, "quiz", bool(c.last_correct), 3, 2.5, at))


async def test_a_question_is_registered_once_and_a_new_hash_resets_its_cards(store: SqlStorage) -> None:
    refs = await asyncio.gather(*(store.review_question("l", "q", "h1", T0) for _ in range(10)))
    assert len({r.id for r in refs}) == 1  # ten at once: one question
    other = await store.review_question("l", "q2", "h1", T0)
    ref = refs[0]
    await store.record_reviews([result(card(7, ref.id, T0 + 86400)), result(card(7, other.id, T0 + 86400))])
    again = await store.review_question("l", "q", "h1", T0 + 5)
    assert again.id == ref.id and await store.question_cards(1, ref.id, [7]) != {}
    assert (await store.question_cards(1, ref.id, [7]))[7].reps == 1  # same hash: untouched
    changed = await store.review_question("l", "q", "h2", T0 + 10)
    assert (changed.id, changed.content_hash) == (ref.id, "h2")
    reset = (await store.question_cards(1, ref.id, [7]))[7]
    assert (reset.state, reset.step, reset.stability, reset.due, reset.reps, reset.last_correct) == (
        1, 0, None, T0 + 10, 0, None,
    )
    assert (await store.question_cards(1, other.id, [7]))[7].reps == 1  # the other question's card is not


async def test_reconcile_retires_resets_and_brings_back(store: SqlStorage) -> None:
    a = await store.review_question("l", "a", "ha", T0)
    b = await store.review_question("l", "b", "hb", T0)
    await store.record_reviews([result(card(7, a.id, T0)), result(card(7, b.id, T0))])
    assert await store.reconcile_questions({("l", "a"): "ha", ("l", "b"): "hb"}, T0) == (0, 0)
    assert await store.reconcile_questions({("l", "a"): "ha2"}, T0 + 1) == (1, 1)
    assert [c.question_id for c in await store.due_cards(1, 7, T0 + 2, 10)] == ["a"]
    assert [c.question_id for c in await store.learner_cards(1, 7)] == ["a"]
    assert await store.reconcile_questions({("l", "a"): "ha2", ("l", "b"): "hb"}, T0 + 3) == (0, 0)
    assert [c.question_id for c in await store.learner_cards(1, 7)] == ["a", "b"]


async def test_due_cards_most_overdue_first_per_learner_and_server(store: SqlStorage) -> None:
    refs = [await store.review_question("l", f"q{i}", "h", T0) for i in range(5)]
    await store.record_reviews(
        [result(card(7, r.id, T0 + 100 * (5 - i))) for i, r in enumerate(refs)]
        + [result(card(8, refs[0].id, T0)), result(card(7, refs[0].id, T0, guild=2))]
    )
    due = await store.due_cards(1, 7, T0 + 350, 10)
    assert [c.question_id for c in due] == ["q4", "q3", "q2"]  # due at +100, +200, +300
    assert [c.question_id for c in await store.due_cards(1, 7, T0 + 350, 2)] == ["q4", "q3"]
    assert await store.review_load(1, 7, T0 + 350) == (3, T0 + 400)
    assert await store.review_load(1, 9, T0) == (0, None)
    assert due[0].card == card(7, refs[4].id, T0 + 100)  # every field survives the round trip


async def test_record_reviews_updates_cards_logs_and_activity_together(store: SqlStorage) -> None:
    ref = await store.review_question("l", "q", "h", T0)
    await store.record_reviews([result(card(7, ref.id, T0 + 10))])
    await store.record_reviews([result(card(7, ref.id, T0 + 99, reps=2, right=False), at=T0 + 5)])
    [(reps, due, right)] = await store.fetch("SELECT reps, due, last_correct FROM review_cards")
    assert (reps, due, right) == (2, T0 + 99, 0)
    assert await store.fetch("SELECT COUNT(*) FROM review_log") == [(2,)]
    assert await store.activity(7, 0.0) == [T0]  # both in the same quarter hour
    # a log entry the database refuses (its time missing): the card written before it in the same
    # transaction is rolled back too
    refused = CardResult(card(7, ref.id, T0, reps=9), ReviewLogRow(1, 7, ref.id, "quiz", True, 3, None, None))
    with pytest.raises(StorageError):
        await store.record_reviews([refused])
    assert await store.fetch("SELECT reps FROM review_cards") == [(2,)]


async def test_atomic_work_is_all_or_nothing(store: SqlStorage) -> None:
    async def half(tx: Tx) -> None:
        await tx.execute("INSERT INTO learners (user_id, timezone, updated_at) VALUES (?, ?, ?)", (7, "UTC", T0))
        assert await tx.fetch("SELECT user_id FROM learners") == [(7,)]  # seen inside the transaction
        raise RuntimeError("half-way")

    with pytest.raises(RuntimeError):
        await store._atomic("test", half)
    assert await store.fetch("SELECT COUNT(*) FROM learners") == [(0,)]
    await store.set_timezone(7, "UTC", T0)  # the connection is usable afterwards
    assert await store.timezone(7) == "UTC"


async def test_lessons_done_once_with_the_first_time(store: SqlStorage) -> None:
    assert await store.mark_done(1, 7, "l", T0)
    assert not await store.mark_done(1, 7, "l", T0 + 50)
    assert await store.lessons_done(1, 7) == {"l": T0}
    assert await store.lessons_done(2, 7) == {}


async def test_runs_and_answers_note_activity_per_quarter_hour(store: SqlStorage) -> None:
    for i, at in enumerate((T0, T0 + 60, T0 + SLOT_SECONDS + 1, T0 + 86400 * 3)):
        await store.record_answer(1, AnswerRow("qz", f"q{i}", 7, "a", at=at))
    await store.record_answer(2, AnswerRow("qz", "x", 7, "a", at=T0 + 120))  # another server, same quarter
    await store.record_run(RunRecordRow(1, 7, "l", "e", "ok", 0.5))  # now
    moments = await store.activity(7, 0.0)
    assert moments[:3] == [T0, T0 + SLOT_SECONDS, T0 + 86400 * 3]
    assert len(moments) == 4  # and the run, today
    assert await store.activity(7, T0 + 86400) == moments[2:]
    assert await store.activity(8, 0.0) == []
    assert await store.examples_run(1, 7) == {"l": {"e"}}


async def test_time_zones_reminders_and_recap_channels(store: SqlStorage) -> None:
    assert await store.timezone(7) is None
    await store.set_timezone(7, "Asia/Shanghai", T0)
    await store.set_timezone(7, "Europe/Paris", T0 + 1)
    assert await store.timezone(7) == "Europe/Paris"
    await store.set_reminders(1, 7, True, T0)
    await store.set_reminders(2, 7, True, T0)
    assert await store.reminders_enabled(1, 7) and not await store.reminders_enabled(1, 8)
    assert await store.stop_reminders(7, T0) == 2
    assert await store.stop_reminders(7, T0) == 0
    assert not await store.reminders_enabled(2, 7)
    await store.set_recap_channel(1, 555)
    await store.set_recap_channel(1, 556)
    await store.set_recap_channel(2, 600)
    await store.recap_posted(1, T0)
    assert await store.recap_channels() == [(1, 556, T0), (2, 600, None)]
    await store.set_recap_channel(2, None)
    assert await store.recap_channels() == [(1, 556, T0)]


async def test_reminder_candidates_have_due_cards_and_waited(store: SqlStorage) -> None:
    ref = await store.review_question("l", "q", "h", T0)
    await store.record_reviews([result(card(u, ref.id, T0)) for u in (7, 8, 9)])
    for user in (7, 8):
        await store.set_reminders(1, user, True, T0)
    await store.set_timezone(8, "Asia/Shanghai", T0)
    found = await store.reminder_candidates(T0 + 1, 10)
    assert [(c.user_id, c.timezone, c.due) for c in found] == [(7, None, 1), (8, "Asia/Shanghai", 1)]
    await store.reminder_sent(1, 7, T0 + 1)
    assert [c.user_id for c in await store.reminder_candidates(T0 + 3600, 10)] == [8]  # 7 was just reminded
    assert [c.user_id for c in await store.reminder_candidates(T0 + 13 * 3600, 1)] == [8]  # oldest first
    assert await store.reminder_candidates(T0 - 1, 10) == []  # nothing due yet
