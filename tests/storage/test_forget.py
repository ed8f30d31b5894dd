"""/forget-me leaves no row behind: every table of the live schema is checked, column by column, on both
databases; another member's data is untouched; quizzes and sessions still running go on without the member."""

from __future__ import annotations

import json
from typing import Any

from bot.core.quiz import QuizGame
from bot.core.sessions import StudySession
from bot.core.storage import AnswerRow, CardResult, CardRow, ReviewLogRow, RunRecordRow
from bot.storage.migrations import SHARED_TABLES, STATE_TABLES, TABLES, USER_TABLES, VERSION_TABLE
from bot.storage.sql import SqlStorage
from tests.core.review.lessons import choice, lesson

GONE = 987_654_321_012_345_678  # the member who asks to be forgotten
STAYS = 876_543_210_987_654_321
GUILD, T0 = 42, 1_767_225_600.0
LESSON = lesson("basics", questions=(choice("q1"), choice("q2")))


async def schema(store: SqlStorage) -> dict[str, list[str]]:
    """Every table of the database as it is (not as the code thinks it is) and its columns."""
    if store.dialect == "sqlite":
        tables = [t for (t,) in await store.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [row[1] for row in await store.fetch(f"PRAGMA table_info({t})")] for t in tables}
    rows = await store.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name <> ? ORDER BY table_name, ordinal_position",
        VERSION_TABLE,
    )
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def mentions(value: Any, user_id: int) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value == user_id
    return isinstance(value, str) and str(user_id) in value


async def traces(store: SqlStorage, user_id: int) -> dict[str, int]:
    """Rows that still mention the member, per table, in any column (ids, and text such as JSON states)."""
    found: dict[str, int] = {}
    for table, columns in (await schema(store)).items():
        rows = await store.fetch(f"SELECT {', '.join(columns)} FROM {table}")
        found[table] = sum(any(mentions(v, user_id) for v in row) for row in rows)
    return found


async def fill(store: SqlStorage, user: int) -> None:
    """Something in every table for `user`: runs, progress, answers, cards and their log, lessons done,
    activity, a time zone, reminders, a quiz and a study session."""
    await store.record_run(RunRecordRow(GUILD, user, "basics", "one", "ok", 0.2))
    await store.mark_lesson(GUILD, user, "basics", completed=True)
    await store.record_answer(GUILD, AnswerRow(f"quiz-{user}", "q1", user, ["a"], T0))
    await store.score_answers(f"quiz-{user}", "q1", {user: (True, 10)})
    ref = await store.review_question("basics", "q1", "h", T0)
    card = CardRow(GUILD, user, ref.id, 2, None, 2.0, 5.0, T0, T0, 1, 0, True)
    await store.record_reviews([CardResult(card, ReviewLogRow(GUILD, user, ref.id, "quiz", True, 3, 1.0, T0))])
    await store.mark_done(GUILD, user, "basics", T0)
    await store.set_timezone(user, "Asia/Shanghai", T0)
    await store.set_reminders(GUILD, user, True, T0)
    await store.reminder_sent(GUILD, user, T0)
    await store.set_recap_channel(GUILD, 1234)


def quiz_state(*users: int) -> dict[str, Any]:
    game = QuizGame("basics", list(LESSON.quiz))
    rnd = game.next_question(T0, 30)
    for user in users:
        rnd.answer(user, ["a"], T0 + 1)
    game.close_current()
    game.next_question(T0 + 40, 30)
    for user in users:
        rnd = game.current
        assert rnd is not None
        rnd.answer(user, ["b"], T0 + 41)
    return {"lesson": "basics", "owner": users[0], "game": game.to_state()}


def session_state(host: int, *members: int) -> dict[str, Any]:
    session = StudySession("s", LESSON, host, T0)
    for member in members:
        session.join(member, T0 + 1)
    session.quiz.next_question(T0 + 2, 30).answer(members[0], ["a"], T0 + 3)
    return session.to_state()


def test_every_table_is_classified_for_forgetting() -> None:
    groups = [set(USER_TABLES), set(STATE_TABLES), set(SHARED_TABLES)]
    assert set.union(*groups) == set(TABLES)
    assert sum(map(len, groups)) == len(TABLES)  # each table in exactly one group


async def test_forget_me_leaves_no_row_behind(store: SqlStorage) -> None:
    assert sorted(await schema(store)) == sorted(TABLES)  # the live schema is what the groups cover
    for user in (GONE, STAYS):
        await fill(store, user)
    await store.save_quiz("running", GUILD, 7, quiz_state(GONE, STAYS))  # both answer a quiz still open
    await store.save_quiz("ended-with", GUILD, 7, quiz_state(STAYS, GONE))
    await store.end_quiz("ended-with")
    await store.save_quiz("ended-without", GUILD, 7, quiz_state(STAYS))
    await store.end_quiz("ended-without")
    await store.save_session("session", GUILD, 8, session_state(GONE, STAYS))  # hosted by the one who goes
    before = await traces(store, STAYS)
    assert {t for t, n in (await traces(store, GONE)).items() if n} == set(TABLES) - set(SHARED_TABLES)

    removed = await store.forget_user(GONE)

    assert await traces(store, GONE) == dict.fromkeys(TABLES, 0)
    assert removed["runs"] == removed["review_cards"] == removed["learners"] == 1
    assert removed["activity"] >= 1 and removed["quizzes"] == 2 and removed["sessions"] == 1
    assert await traces(store, STAYS) == {**before, "quizzes": before["quizzes"] - 1}  # the ended quiz they shared
    # what is still running goes on without the member
    [(quiz_id, _, _, state)] = await store.active_quizzes()
    assert quiz_id == "running" and state["owner"] == 0
    game = QuizGame.from_state(state["game"], "basics", list(LESSON.quiz))
    assert game.current is not None and list(game.current.submissions) == [STAYS]
    assert set(game.totals) | set(game.answered) == {STAYS}
    [(_, _, _, session)] = await store.active_sessions()
    restored = StudySession.from_state(session, LESSON)
    assert restored.host_id == 0 and set(restored.members) == {STAYS}
    assert [k for (k,) in await store.fetch("SELECT id FROM quizzes ORDER BY id")] == ["ended-without", "running"]
    assert await store.forget_user(GONE) == {**dict.fromkeys(USER_TABLES, 0), **dict.fromkeys(STATE_TABLES, 0)}


async def test_the_console_learner_is_forgotten_without_touching_states(store: SqlStorage) -> None:
    """The console's learner is user 0; quiz and session states never hold it, and a 0 inside them (an index,
    a hint number) must not be mistaken for it."""
    await fill(store, 0)
    state = quiz_state(STAYS)
    await store.save_quiz("running", GUILD, 7, state)
    removed = await store.forget_user(0)
    assert removed["runs"] == 1 and "quizzes" not in removed
    assert (await store.active_quizzes())[0][3] == json.loads(json.dumps(state))
    counts = await store.row_counts()
    assert {t: n for t, n in counts.items() if n} == {"review_questions": 1, "recap_channels": 1, "quizzes": 1}
