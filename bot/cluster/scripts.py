"""The Lua scripts that keep the cluster's shared state consistent: each runs atomically inside Redis.

Every change of a run's place — admitted, started by a node, finished, cancelled, orphaned by a dead node — is
one script, so no interleaving of processes can admit a member twice, start a run on two nodes, lose a
member's slot or end a run twice.  Times are Redis's own clock (`TIME`), never a process's, so machines whose
clocks disagree still agree on who is alive.  See `keys.py` for the keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

# Free slots of the live nodes, and a queued run's place beyond them (<= 0: it starts as soon as a node reads it).
CAPACITY = """
local function free_slots(nodes_key, capacity_key, running_key, now, dead_after)
  local alive = redis.call('ZRANGEBYSCORE', nodes_key, now - dead_after, '+inf')
  local cap = 0
  if #alive > 0 then
    for _, c in ipairs(redis.call('HMGET', capacity_key, unpack(alive))) do cap = cap + (tonumber(c) or 0) end
  end
  return cap - redis.call('HLEN', running_key), #alive
end
"""

# KEYS: queue, ticket, requests, user, nodes, capacity, running, run, quota keys...
# ARGV: run, owner ('' = none), per_user, queue_size, dead_after ms, hold ms, reply, timeout s, quota count,
#       (limit, window ms) per quota, then the request's fields (name, value, ...)
ADMIT = (
    NOW
    + CAPACITY
    + """
local run, owner = ARGV[1], ARGV[2]
local dead_after, hold = tonumber(ARGV[5]), tonumber(ARGV[6])
local free, alive = free_slots(KEYS[5], KEYS[6], KEYS[7], now, dead_after)
if alive == 0 then return {'nodes'} end
if owner ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[3]) then return {'busy'} end
end
local quotas = tonumber(ARGV[9])
for q = 1, quotas do
  local key, limit, window = KEYS[8 + q], tonumber(ARGV[8 + 2 * q]), tonumber(ARGV[9 + 2 * q])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {'quota', q, tonumber(oldest[2]) + window - now}
  end
end
if redis.call('ZCARD', KEYS[1]) - math.max(free, 0) >= tonumber(ARGV[4]) then return {'full'} end
redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), run)
if owner ~= '' then
  redis.call('ZADD', KEYS[4], now + hold, run)
  redis.call('PEXPIRE', KEYS[4], hold)
end
for q = 1, quotas do
  local window = tonumber(ARGV[9 + 2 * q])
  redis.call('ZADD', KEYS[8 + q], now, run)
  redis.call('PEXPIRE', KEYS[8 + q], window)
end
redis.call('HSET', KEYS[8], 'owner', owner, 'reply', ARGV[7], 'timeout', ARGV[8], 'state', 'queued', 'admitted', now)
redis.call('PEXPIRE', KEYS[8], hold)
local fields = {}
for j = 10 + 2 * quotas, #ARGV do fields[#fields + 1] = ARGV[j] end
redis.call('XADD', KEYS[3], '*', unpack(fields))
return {'ok', redis.call('ZRANK', KEYS[1], run) + 1 - math.max(free, 0)}
"""
)

# KEYS: queue, running, nodes, capacity.  ARGV: dead_after ms, run ids...
# Each run's place (see CAPACITY), or 'running', or 'gone' (finished, cancelled, or lost with Redis's data).
POSITIONS = (
    NOW
    + CAPACITY
    + """
local free = free_slots(KEYS[3], KEYS[4], KEYS[2], now, tonumber(ARGV[1]))
free = math.max(free, 0)
local out = {}
for i = 2, #ARGV do
  local rank = redis.call('ZRANK', KEYS[1], ARGV[i])
  if rank then
    out[#out + 1] = rank + 1 - free
  elseif redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 then
    out[#out + 1] = 'running'
  else
    out[#out + 1] = 'gone'
  end
end
return out
"""
)

# A node takes a request it read.  KEYS: queue, running, run, requests, user.
# ARGV: run, node, entry id, group, hold ms.  1: it is this node's now; 2: it already was (a retry after a lost
# reply); 0: it was cancelled or another node has it (skip it).
START = (
    NOW
    + """
redis.call('XACK', KEYS[4], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[4], ARGV[3])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return 2 end
  return 0
end
local hold = tonumber(ARGV[5])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], 'node', ARGV[2], 'state', 'running', 'started', now)
redis.call('PEXPIRE', KEYS[3], hold)
redis.call('ZADD', KEYS[5], 'XX', now + hold, ARGV[1])
return 1
"""
)

# A node's last word on a run: its Finished event, and the member's slot back, at once.
# KEYS: running, run, user, inbox.  ARGV: run, node, event (JSON), inbox length bound.
# 0: the run is no longer this node's (it was declared dead meanwhile, or the bot gave up on it): nothing sent.
FINISH = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('XADD', KEYS[4], 'NOMKSTREAM', 'MAXLEN', '~', ARGV[4], '*', 'r', ARGV[1], 'e', ARGV[3])
return 1
"""

# /stop.  KEYS: queue, running, run, user.  ARGV: run, control channel prefix.
# {'queued'}: it had not started, and now never will; {'running', node}: the node was told; {'gone'}.
CANCEL = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[4], ARGV[1])
  return {'queued'}
end
local node = redis.call('HGET', KEYS[2], ARGV[1])
if node then
  redis.call('HSET', KEYS[3], 'cancel', '1')
  redis.call('PUBLISH', ARGV[2] .. node, ARGV[1])
  return {'running', node}
end
return {'gone'}
"""

# The bot gave up on a run (its node went silent or sent garbage): release everything; the node, if alive, is
# told to stop it and its later words are dropped (FINISH finds the run no longer its own).
# KEYS: queue, running, run, user.  ARGV: run, control channel prefix.
ABANDON = """
redis.call('ZREM', KEYS[1], ARGV[1])
local node = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], ARGV[1])
if node then redis.call('PUBLISH', ARGV[2] .. node, ARGV[1]) end
return node or ''
"""

# KEYS: nodes, capacity, node, reaped.  ARGV: node, capacity, ttl ms, then description fields (name, value, ...)
# -1: this node was declared dead (it must stop its runs and come back under a new name); else Redis's time.
HEARTBEAT = (
    NOW
    + """
if redis.call('EXISTS', KEYS[4]) == 1 then return -1 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
local fields = {}
for j = 4, #ARGV do fields[#fields + 1] = ARGV[j] end
if #fields > 0 then redis.call('HSET', KEYS[3], unpack(fields)) end
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[3]))
return now
"""
)

# Nodes without a heartbeat for dead_after: forget them, fence their names, and end each run they held with a
# `killed` Finished in its bot's inbox (and the member's slot back).  Run by every process; atomic, so once.
# KEYS: nodes, capacity, running.  ARGV: dead_after ms, key tag ('{corobot}'), inbox length bound.
# Returns {dead nodes, {run, node, ...} orphaned}.
REAP = (
    NOW
    + """
local dead_after, tag = tonumber(ARGV[1]), ARGV[2]
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - dead_after))
local orphans = {}
if #dead == 0 then return {dead, orphans} end
local is_dead = {}
for _, node in ipairs(dead) do
  is_dead[node] = true
  redis.call('ZREM', KEYS[1], node)
  redis.call('HDEL', KEYS[2], node)
  redis.call('DEL', tag .. ':node:' .. node)
  redis.call('SET', tag .. ':reaped:' .. node, '1', 'PX', 86400000)
end
local running = redis.call('HGETALL', KEYS[3])
for i = 1, #running, 2 do
  local run, node = running[i], running[i + 1]
  if is_dead[node] then
    redis.call('HDEL', KEYS[3], run)
    local run_key = tag .. ':run:' .. run
    local info = redis.call('HMGET', run_key, 'owner', 'reply', 'started', 'timeout')
    redis.call('DEL', run_key)
    if info[1] and info[1] ~= '' then redis.call('ZREM', tag .. ':user:' .. info[1], run) end
    if info[2] then
      local elapsed = math.max(0, (now - (tonumber(info[3]) or now)) / 1000)
      elapsed = math.min(elapsed, tonumber(info[4]) or elapsed)
      local reason = string.format(
        'the runner node %s stopped answering (no heartbeat for %.1f s) while this run was going; it was not restarted',
        node, dead_after / 1000)
      local event = cjson.encode({type = 'finished', status = 'killed', elapsed = elapsed, error = reason})
      redis.call('XADD', info[2], 'NOMKSTREAM', 'MAXLEN', '~', ARGV[3], '*', 'r', run, 'e', event)
    end
    orphans[#orphans + 1] = run
    orphans[#orphans + 1] = node
  end
end
return {dead, orphans}
"""
)

# A stopping node gives back a request it read but did not start: a copy goes back on the stream (its place in
# the queue, the ticket, is unchanged), the read one is acknowledged.  KEYS: queue, requests.
# ARGV: run, entry id, group, then the request's fields.  1: given back; 0: no longer queued (dropped).
GIVE_BACK = """
redis.call('XACK', KEYS[2], ARGV[3], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local fields = {}
for j = 4, #ARGV do fields[#fields + 1] = ARGV[j] end
redis.call('XADD', KEYS[2], '*', unpack(fields))
return 1
"""


@dataclass(frozen=True, slots=True)
class Scripts:
    admit: AsyncScript
    positions: AsyncScript
    start: AsyncScript
    finish: AsyncScript
    cancel: AsyncScript
    abandon: AsyncScript
    heartbeat: AsyncScript
    reap: AsyncScript
    give_back: AsyncScript

    @classmethod
    def register(cls, redis: Redis) -> Scripts:
        """The scripts bound to `redis` (sent once by SHA; reloaded by redis-py if the server forgot them)."""
        sources = {
            "admit": ADMIT,
            "positions": POSITIONS,
            "start": START,
            "finish": FINISH,
            "cancel": CANCEL,
            "abandon": ABANDON,
            "heartbeat": HEARTBEAT,
            "reap": REAP,
            "give_back": GIVE_BACK,
        }
        return cls(**{name: redis.register_script(source) for name, source in sources.items()})


def text(value: Any) -> str:
    """A reply item as text (replies are bytes unless the client decodes them)."""
    return value.decode() if isinstance(value, bytes) else str(value)
