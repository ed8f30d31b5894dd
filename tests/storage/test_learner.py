"""Learner code in storage, on both databases: the last version kept per learner and item, the moderation log
(a hash, never the code), the admins' off switch, exercise points awarded exactly once, the quota's uses."""

from __future__ import annotations

import asyncio
import time

from bot.core.playground.quota import StorageQuota
from bot.core.storage import LearnerRunRow
from bot.storage.sql import SqlStorage
from bot.storage.url import storage_for
from tests.core.playground.scenarios import LIMITS, Clock, concurrent_takes, per_user_then_per_guild


async def test_the_last_version_is_kept_per_learner_and_item_across_a_reopen(store: SqlStorage) -> None:
    await store.save_learner_code(7, "example", "hello", "hello", "print(1)\n")
    await store.save_learner_code(7, "example", "hello", "hello", "print(2)\n")
    await store.save_learner_code(7, "exercise", "hello", "hello", "print('exercise')\n")  # same ids, other kind
    await store.save_learner_code(8, "example", "hello", "hello", "print('eight')\n")
    assert await store.learner_code(7, "example", "hello", "hello") == "print(2)\n"
    assert await store.learner_code(7, "exercise", "hello", "hello") == "print('exercise')\n"
    assert await store.learner_code(8, "example", "hello", "hello") == "print('eight')\n"
    assert await store.learner_code(9, "example", "hello", "hello") is None
    url = store.target if store.dialect == "sqlite" else None
    if url is not None:  # a new connection to the same file: what survives a restart
        again = storage_for(f"sqlite:///{url}")
        await again.open()
        try:
            assert await again.learner_code(7, "example", "hello", "hello") == "print(2)\n"
        finally:
            await again.close()


async def test_the_moderation_log_holds_a_hash_and_the_outcome_never_the_code(store: SqlStorage) -> None:
    row = LearnerRunRow("r1", 1, 2, 7, "exercise", "hello/fast", "ab" * 32, 120, 5, time.time())
    await store.log_learner_run(row)
    await store.log_learner_run(LearnerRunRow("r2", 1, 2, 7, "exercise", "hello/fast", "cd" * 32, 130, 0, 1.0))
    await store.log_learner_run(LearnerRunRow("r3", 1, 2, 7, "try", "", "ef" * 32, 10, 0, 2.0))
    assert await store.learner_tries(1, 7, "exercise", "hello/fast") == (0, 0)  # not graded yet
    await store.finish_learner_run("r1", "ok", 1.5, False)
    await store.finish_learner_run("r2", "ok", 1.0, True)
    await store.finish_learner_run("r3", "error", 0.1, None)
    assert await store.learner_tries(1, 7, "exercise", "hello/fast") == (2, 1)
    assert await store.learner_tries(2, 7, "exercise", "hello/fast") == (0, 0)  # another server
    rows = await store.fetch("SELECT id, user_id, code_sha256, status, passed FROM learner_runs ORDER BY id")
    assert rows == [("r1", 7, "ab" * 32, "ok", 0), ("r2", 7, "cd" * 32, "ok", 1), ("r3", 7, "ef" * 32, "error", None)]
    columns = await store.fetch("SELECT * FROM learner_runs WHERE id = ?", "r1")
    assert all("print" not in str(value) for value in columns[0])


async def test_the_off_switch_per_server_and_channel(store: SqlStorage) -> None:
    assert await store.learner_policy(1) == {}
    await store.set_learner_policy(1, 0, False)
    await store.set_learner_policy(1, 5, True)
    await store.set_learner_policy(1, 5, False)  # changed again: one row
    await store.set_learner_policy(2, 0, True)
    assert await store.learner_policy(1) == {0: False, 5: False}
    assert await store.learner_policy(2) == {0: True}
    assert await store.fetch("SELECT COUNT(*) FROM learner_policy") == [(3,)]


async def test_exercise_points_are_awarded_once_even_when_submissions_race(store: SqlStorage) -> None:
    results = await asyncio.gather(*(store.award_exercise(1, 7, "hello", "fast", 20, f"{i:064x}") for i in range(10)))
    assert sorted(results) == [False] * 9 + [True]
    assert await store.award_exercise(1, 7, "hello", "fast", 20, "0" * 64) is False
    assert await store.award_exercise(2, 7, "hello", "fast", 20, "0" * 64) is True  # another server: its own
    assert await store.award_exercise(1, 7, "hello", "other", 5, "0" * 64) is True
    progress = await store.progress(1, 7)
    assert (progress.answers, progress.correct, progress.points) == (2, 2, 25)
    assert await store.leaderboard(1, "week") == [(7, 25, 2)]


async def test_quota_uses_by_member_server_and_window(store: SqlStorage) -> None:
    await store.add_quota_use(1, 7, 100.0)
    await store.add_quota_use(1, 7, 150.0)
    await store.add_quota_use(1, 8, 160.0)
    await store.add_quota_use(2, 7, 170.0)  # the same member in another server
    assert await store.quota_uses(1, 7, 120.0) == ([150.0, 170.0], [150.0, 160.0])
    assert await store.quota_uses(3, 9, 0.0) == ([], [])
    await store.forget_quota_uses(155.0)
    assert await store.quota_uses(1, 7, 0.0) == ([170.0], [160.0])


async def test_the_storage_quota_behaves_like_the_memory_one(store: SqlStorage) -> None:
    clock = Clock()
    await per_user_then_per_guild(StorageQuota(store, LIMITS, clock), clock)
    await store.forget_quota_uses(clock.now + 1000)
    await concurrent_takes(StorageQuota(store, LIMITS, clock))


async def test_the_storage_quota_forgets_old_uses(store: SqlStorage) -> None:
    clock = Clock()
    quota = StorageQuota(store, LIMITS, clock)
    for user in range(100):  # the 100th take forgets what is older than the longest window
        clock.now += 5
        assert (await quota.take(user, user)).allowed
    [(left,)] = await store.fetch("SELECT COUNT(*) FROM quota_uses")
    assert left == 21  # the last 100 s, both ends included
