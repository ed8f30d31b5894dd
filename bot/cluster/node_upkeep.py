"""A runner node's upkeep: heartbeats, reaping dead nodes, claiming their unstarted requests, stop requests.

Split from `node.py` (what a node does with runs) because this is what it does for the cluster: each heartbeat
(1) says it is alive (or learns that it was declared dead: then it stops its runs — their bots have already
shown them `killed` — and comes back under a new name), (2) keeps the requests it holds from looking abandoned,
(3) reaps nodes that stopped beating, (4) claims the requests that nodes no longer in the cluster had read and
not started, and any idle longer than `dead_after`, (5) double-checks stop flags (in case a pub/sub message was
missed).  A second task listens on the node's control channel for `/stop`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.exceptions import RedisError

from bot.cluster.keys import GROUP
from bot.cluster.node_state import Held, NodeState
from bot.cluster.streams import entries

log = logging.getLogger(__name__)

INBOX_BOUND = 100_000
FORGET_CONSUMERS_EVERY = 30  # heartbeats between sweeps of dead consumers from the group
CLAIM_MIN_IDLE_MS = 100  # a request another node claimed this instant is left to it


class Upkeep:
    def __init__(self, node: NodeState) -> None:
        self.node = node
        self._beats = 0

    async def run(self) -> None:
        node = self.node
        listener = asyncio.create_task(self._listen(), name="corobot-node-control")
        try:
            while True:
                await asyncio.sleep(node.heartbeat)
                try:
                    await self.beat()
                    await self.refresh_held()
                    await self.reap()
                    await self.claim()
                    await self.check_stops()
                    if self._beats % FORGET_CONSUMERS_EVERY == 0:
                        await self.forget_consumers()
                except RedisError as exc:
                    node.stats.heartbeat_failures += 1
                    log.error("runner node %s: heartbeat failed: %s", node.node_id, exc)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)

    async def beat(self) -> None:
        node, k = self.node, self.node.keys
        ttl = int(max(60.0, 20 * node.dead_after) * 1000)
        fields = [part for pair in node.description().items() for part in pair]
        result = await node.scripts.heartbeat(
            keys=[k.nodes, k.capacity, k.node(node.node_id), k.reaped(node.node_id)],
            args=[node.node_id, node.capacity, ttl, *fields],
        )
        if int(result) == -1:
            await self.fenced()
            return
        self._beats += 1
        node.stats.heartbeats += 1
        node.stats.last_heartbeat = time.monotonic()

    async def fenced(self) -> None:
        """This node was declared dead (it stalled longer than dead_after, or lost Redis): the bots have ended its
        runs as `killed` already, so it stops them, drops what it held (others claim it), and rejoins as new."""
        node = self.node
        old = node.node_id
        node.generation += 1
        node.node_id = f"{node.base_id}-{node.generation}"
        log.error("runner node %s was declared dead; stopping its runs, rejoining as %s", old, node.node_id)
        for flight in list(node.inflight.values()):
            if flight.run is not None:
                flight.run.cancel()
        node.held.clear()
        await self.beat()

    async def refresh_held(self) -> None:
        """XCLAIM its own held requests (idle time back to 0), so no other node mistakes them for a dead one's."""
        node = self.node
        ids: list[int | bytes | str | memoryview[int]] = [held.entry_id for held in node.held]
        if ids:
            await node.redis.xclaim(node.keys.requests, GROUP, node.node_id, 0, ids, justid=True)

    async def reap(self) -> None:
        node, k = self.node, self.node.keys
        dead, orphans = await node.scripts.reap(
            keys=[k.nodes, k.capacity, k.running], args=[int(node.dead_after * 1000), k.tag, INBOX_BOUND]
        )
        if dead:
            ended = len(orphans) // 2
            node.stats.orphaned += ended
            log.warning("runner node(s) %s stopped sending heartbeats; %d of their run(s) ended", dead, ended)

    async def claim(self) -> None:
        """Take over requests read by nodes that are gone: first those of consumers no longer in the cluster (a
        reaped node, whoever reaped it: at once), then any request idle longer than dead_after (XAUTOCLAIM: a node
        that stalls).  XCLAIM with a small minimum idle time, so two nodes claiming together take each entry once."""
        node, k = self.node, self.node.keys
        room = node.free + node.prefetch - len(node.held)
        if room <= 0 or node.free <= 0 or node.stopping:
            return
        claimed: list[Held] = []
        alive = set(await node.redis.zrange(k.nodes, 0, -1))
        for consumer in await node.redis.xinfo_consumers(k.requests, GROUP):
            name = str(consumer.get("name"))
            if name in alive or name == node.node_id or not consumer.get("pending") or room <= len(claimed):
                continue
            pending = await node.redis.xpending_range(k.requests, GROUP, "-", "+", room - len(claimed), name)
            ids: list[int | bytes | str | memoryview[int]] = [str(p["message_id"]) for p in pending]
            if ids:
                found = await node.redis.xclaim(k.requests, GROUP, node.node_id, CLAIM_MIN_IDLE_MS, ids)
                claimed += [Held(i, f) for i, f in entries([[k.requests, found]])]
        if room > len(claimed):
            reply = await node.redis.xautoclaim(
                k.requests, GROUP, node.node_id, int(node.dead_after * 1000), "0-0", count=room - len(claimed)
            )
            claimed += [Held(i, f) for i, f in entries([[k.requests, reply[1]]])]
        if claimed:
            log.warning("runner node %s: took over %d request(s) a lost node had read", node.node_id, len(claimed))
            node.take_over(claimed)

    async def check_stops(self) -> None:
        node = self.node
        flights = [f for f in node.inflight.values() if f.run is not None]
        if not flights:
            return
        async with node.redis.pipeline(transaction=False) as pipe:
            for flight in flights:
                pipe.hget(node.keys.run(flight.request.run_id), "cancel")
            flags = await pipe.execute()
        for flight, flag in zip(flights, flags, strict=True):
            if flag and flight.run is not None and flight.run.result is None:
                node.cancel(flight.request.run_id)

    async def forget_consumers(self) -> None:
        """Remove consumers of dead nodes that hold nothing (a node's name per process start would pile up)."""
        node = self.node
        consumers = await node.redis.xinfo_consumers(node.keys.requests, GROUP)
        alive = {str(n) for n in await node.redis.zrange(node.keys.nodes, 0, -1)}
        for consumer in consumers:
            name = str(consumer.get("name"))
            idle = int(consumer.get("idle", 0))
            if name not in alive and name != node.node_id and not consumer.get("pending") and idle > 60_000:
                await node.redis.xgroup_delconsumer(node.keys.requests, GROUP, name)

    async def _listen(self) -> None:
        """/stop for runs this node holds, from any bot process (pub/sub: instant; `check_stops` backs it up)."""
        node = self.node
        while True:
            channel = node.keys.control(node.node_id)
            try:
                async with node.redis.pubsub() as pubsub:
                    await pubsub.subscribe(channel)
                    while node.keys.control(node.node_id) == channel:  # a new name after fencing: subscribe again
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                        if message is not None and str(message.get("data", "")).isdigit():
                            node.cancel(int(message["data"]))
            except RedisError as exc:
                log.warning("runner node %s: control channel lost (%s); listening again", node.node_id, exc)
                await asyncio.sleep(0.5)

    async def leave(self) -> None:
        """A clean exit: not alive any more, capacity gone, consumer removed (it holds nothing by now)."""
        node, k = self.node, self.node.keys
        if node.inflight:  # runs that did not end: the cluster reaps this node, so they end `killed`, not lost
            log.warning("runner node %s leaves with %d run(s) unfinished", node.node_id, len(node.inflight))
            return
        try:
            async with node.redis.pipeline(transaction=False) as pipe:
                pipe.zrem(k.nodes, node.node_id)
                pipe.hdel(k.capacity, node.node_id)
                pipe.delete(k.node(node.node_id))
                pipe.xgroup_delconsumer(k.requests, GROUP, node.node_id)
                await pipe.execute()
        except RedisError as exc:
            log.warning("runner node %s: could not leave cleanly (%s); it is reaped in time", node.node_id, exc)
        log.info("runner node %s left the cluster", node.node_id)
