"""OwnedTasks: tasks held until they end, one per key, stopped together (after a grace period)."""

from __future__ import annotations

import asyncio
import gc

from bot.core.tasks import OwnedTasks


async def test_a_task_is_held_until_it_ends_then_let_go() -> None:
    tasks = OwnedTasks()
    done = asyncio.Event()

    async def work() -> str:
        await done.wait()
        return "finished"

    task = tasks.spawn(work(), name="work")
    del task
    gc.collect()  # nobody but the owner holds it: it must survive
    assert len(tasks) == 1
    done.set()
    await tasks.wait()
    await asyncio.sleep(0)
    assert len(tasks) == 0


async def test_one_task_per_key_and_cancel_by_key() -> None:
    tasks = OwnedTasks()
    first = tasks.spawn(asyncio.sleep(10), name="timer", key="s1")
    again = tasks.spawn(asyncio.sleep(10), name="timer", key="s1")
    assert again is first and "s1" in tasks and len(tasks) == 1
    tasks.cancel("s1")
    await asyncio.sleep(0)
    assert first.cancelled() and "s1" not in tasks
    other = tasks.spawn(asyncio.sleep(10), name="timer", key="s1")
    assert other is not first and tasks.get("s1") is other
    await tasks.close()
    assert other.cancelled()


async def test_close_lets_tasks_finish_within_the_grace_then_cancels_the_rest() -> None:
    tasks = OwnedTasks()
    quick = tasks.spawn(asyncio.sleep(0.05), name="quick")
    slow = tasks.spawn(asyncio.sleep(30), name="slow")
    loop = asyncio.get_running_loop()
    started = loop.time()
    await tasks.close(grace=0.5)
    assert quick.done() and not quick.cancelled()
    assert slow.cancelled()
    assert loop.time() - started < 5.0
