"""The deployment of README "Running at scale", for real: two runner nodes and two bot processes (each with one of
two gateway shards) as subprocesses, sharing the real Redis and PostgreSQL, against the Discord emulator.

One test walks through what the issue asks of it, in order (starting the processes is most of the cost):
a /run streams through a node in another process; one member's limit holds across the bot processes; /reload
reaches both bot processes; killing a node mid-burst ends its runs with the reason and its queued requests finish
on the other node; the metrics and health endpoints answer."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.discord_app.env import is_final
from tests.fakediscord import FakeDiscord, FakeInteraction

from .deployment import Deployment, lesson_files

pytestmark = pytest.mark.timeout(240)


def final_status(ix: FakeInteraction) -> str:
    assert ix.original is not None
    content = ix.original.content
    for word in ("finished in", "killed", "stopped in", "raised"):
        if word in content:
            return word
    return content


async def test_two_bots_two_nodes(tmp_path, redis, keys, pg_url) -> None:
    lesson_files(tmp_path / "lessons")
    async with FakeDiscord(shards=2) as fd, Deployment(tmp_path, fd, redis, keys, pg_url) as d:
        other = fd.add_guild("second guild", shard=1 - fd.shard_of(fd.guild))
        here, there = fd.channel, other.id  # guild A on one shard, guild B on the other
        n1 = await d.start_node("n1", max_concurrent=2, prefetch=3)
        n2 = await d.start_node("n2", max_concurrent=3)
        bots = [await d.start_bot(f"b{i}", shard=i, shards=2) for i in range(2)]
        await d.wait_ready(nodes=2, bots=2, shards=2)
        alice, admin = fd.add_user("alice"), fd.add_user("admin", admin=True)

        # 1. /run in guild A streams, through a node (another process)
        ix = await fd.slash(alice, "run", {"lesson": "hello"}, channel=here)
        await fd.wait_until(lambda: is_final(ix.original), 30)
        assert ix.original is not None
        assert re.findall(r"^\+\d+\.\d{3}s  (\w+)$", ix.original.content, re.M) == ["Hello", "World"]
        assert "✅ finished in" in ix.original.content
        done = [(await n.metrics()).get('corobot_node_runs_total{status="ok"}', 0) for n in (n1, n2)]
        assert sum(done) == 1

        # 2. one member's limit across the bot processes: alice runs in guild A, then tries guild B
        slow = await fd.slash(alice, "run", {"lesson": "stream", "example": "slow"}, channel=here)
        await fd.wait_until(lambda: slow.original is not None and "started" in slow.original.content, 30)
        busy = await fd.slash(alice, "run", {"lesson": "hello"}, channel=there)
        assert busy.original is not None and busy.original.ephemeral and "/stop" in busy.original.content
        stop = await fd.slash(alice, "stop", channel=here)
        assert stop.original is not None and "Stopping 1" in stop.original.content
        await fd.wait_until(lambda: is_final(slow.original), 30)
        assert final_status(slow) == "stopped in"
        again = await fd.slash(alice, "run", {"lesson": "hello"}, channel=there)  # free again, in guild B
        await fd.wait_until(lambda: is_final(again.original), 30)
        assert "finished in" in final_status(again)

        # 3. /reload in guild B reaches the other bot process too
        extra = "id: extra\ntitle: Extra\nexamples:\n  - id: a\n    code: print(1)\n"
        (tmp_path / "lessons" / "extra.yaml").write_text(extra, encoding="utf-8")
        reload = await fd.slash(admin, "reload", channel=there)
        await fd.wait_until(lambda: reload.original is not None and not reload.original.loading, 10)
        assert reload.original is not None
        text = reload.original.content
        assert "Also reloaded by 1 other bot process:" in text, text
        assert re.search(r"• `[^`]+`: 4 lessons available, 0 file problem", text), text

        # 4. a burst over both guilds; n1 dies mid-burst
        users = [fd.add_user(f"u{i}") for i in range(10)]
        burst = [
            await fd.slash(user, "run", {"lesson": "burst", "example": "two"}, channel=(here, there)[i % 2])
            for i, user in enumerate(users)
        ]

        async def n1_busy() -> tuple[list[str], int]:
            running = await redis.hgetall(keys.running)
            pending = await redis.xpending(keys.requests, "nodes")
            held = {c["name"]: c["pending"] for c in pending.get("consumers", [])}
            return [run for run, node in running.items() if node == "n1"], int(held.get("n1", 0))

        for _ in range(200):
            on_n1, held_by_n1 = await n1_busy()
            if len(on_n1) == 2 and held_by_n1 >= 1:
                break
            await asyncio.sleep(0.02)
        assert len(on_n1) == 2 and held_by_n1 >= 1, (on_n1, held_by_n1)
        n1.kill()
        await fd.wait_until(lambda: all(is_final(ix.original) for ix in burst), 60)
        statuses = [final_status(ix) for ix in burst]
        killed = [ix for ix in burst if "killed" in final_status(ix)]
        assert len(killed) == 2, statuses  # the two running on n1, not re-run
        for ix in killed:
            assert ix.original is not None and "n1 stopped answering" in ix.original.content
            assert "not restarted" in ix.original.content
        assert statuses.count("finished in") == len(burst) - 2, statuses  # n1's held requests ran on n2
        claimed = (await n2.metrics()).get("corobot_node_claimed_requests_total", 0)
        assert claimed >= held_by_n1

        # 5. the operators' endpoints
        status, health = await bots[0].health()
        assert status == 200 and health["checks"]["discord"]["ok"] and health["checks"]["redis"]["ok"], health
        metrics = await bots[1].metrics()
        assert metrics["corobot_runner_nodes_alive"] == 1
        assert any(k.startswith("corobot_discord_rest_requests_total") for k in metrics)
        assert "corobot_event_loop_lag_seconds_count" in metrics
        status, health = await n2.health()
        assert status == 200 and health["role"] == "runner-node"

        # 6. a clean stop (SIGTERM) of every process leaves nothing behind in Redis
        for proc in (*bots, n2):
            assert await d.stop(proc) == 0, proc.tail()
        assert await redis.zcard(keys.nodes) == 0 and await redis.hlen(keys.running) == 0
        assert await redis.zcard(keys.queue) == 0 and await redis.zcard(keys.bots) == 0
