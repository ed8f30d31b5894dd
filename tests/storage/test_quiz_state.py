"""A quiz's state goes through the database and back unchanged (what a restart relies on), on both databases."""

from __future__ import annotations

from bot.core.lessons import Lesson
from bot.core.quiz import QuizGame
from bot.storage.migrations import MIGRATIONS
from bot.storage.url import storage_for

LESSON = Lesson.model_validate(
    {
        "id": "demo",
        "title": "Demo",
        "examples": [{"id": "two", "code": "print('Hello')\n"}],
        "quiz": [
            {"id": "q1", "type": "choice", "prompt": "p", "explanation": "e", "choices": ["a", "b"], "answer": "a",
             "hints": [{"text": "h", "cost": 2}]},
            {"id": "q2", "type": "predict_output", "prompt": "p", "explanation": "e", "answer": ["x", "y"]},
        ],
    }
)  # fmt: skip


async def test_quiz_state_survives_a_reopen(storage_url: str) -> None:
    game = QuizGame("demo", list(LESSON.quiz), speed_bonus=True)
    game.next_question(1000.0, 30.0)
    assert game.current is not None
    game.current.answer(7, "a", 1001.0)
    game.current.take_hint(7, 0, 1002.0)
    game.close_current()
    game.next_question(1100.0, 30.0)
    game.current.answer(8, ["y", "x"], 1101.0)
    store = storage_for(storage_url)
    await store.open()
    await store.save_quiz("qz", 1, 2, {"game": game.to_state()})
    await store.close()

    store = storage_for(storage_url)
    await store.open()
    assert await store.schema_version() == len(MIGRATIONS) >= 2
    [(quiz_id, guild, channel, state)] = await store.active_quizzes()
    await store.close()
    back = QuizGame.from_state(state["game"], "demo", list(LESSON.quiz))
    assert (quiz_id, guild, channel) == ("qz", 1, 2)
    assert back.speed_bonus and back.index == 1 and back.revealed == 1
    assert back.totals == game.totals and back.right == game.right and back.totals[7] > 0
    assert back.current is not None and back.current.submissions[8].value == ("y", "x")
    reveal = back.close_current()
    assert reveal.distribution == {"y → x": 1} and back.scoreboard()[0][0] == 7
