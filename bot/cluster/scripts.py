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

INBOX_TTL_MS = 600_000  # an inbox outlives its last event by this much (its bot process keeps it while alive)

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

# A run's end, wherever it happens (FINISH, CANCEL of a queued run, ABANDON, REAP): its record goes, and its
# member's slot comes back -- once the last run of its group ended (the runs of one version comparison, admitted
# together, hold one slot).  false: the run had no record (already released).
RELEASE = f"""
local INBOX_TTL = {INBOX_TTL_MS}
local function release(tag, run)
  local run_key = tag .. ':run:' .. run
  local info = redis.call('HMGET', run_key, 'owner', 'group')
  if redis.call('DEL', run_key) == 0 then return false end
  local owner, group = info[1], info[2]
  if not group or group == '' then group = run end
  if group ~= run then
    local group_key = tag .. ':group:' .. group
    if redis.call('HINCRBY', group_key, 'left', -1) > 0 then return true end
    redis.call('DEL', group_key)
  end
  if owner and owner ~= '' then redis.call('ZREM', tag .. ':user:' .. owner, group) end
  return true
end
"""

# KEYS: queue, ticket, requests, user, nodes, capacity, running, quota keys...
# ARGV: group (the first run's id), owner ('' = none), per_user, queue_size, dead_after ms, hold ms, reply,
#       timeout s, key tag, quota count, (limit, window ms) per quota, run count, then per run: its id, its
#       field count, its request's fields (name, value, ...).
# All the runs or none: {'ok', place, place, ...} (see CAPACITY), {'nodes'}, {'busy'}, {'full'},
# {'quota', which, retry ms}.  The runs hold one slot of their member's (the group), count as one start.
ADMIT = (
    NOW
    + CAPACITY
    + """
local group, owner = ARGV[1], ARGV[2]
local dead_after, hold, tag = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[9]
local free, alive = free_slots(KEYS[5], KEYS[6], KEYS[7], now, dead_after)
free = math.max(free, 0)
if alive == 0 then return {'nodes'} end
if owner ~= '' then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[3]) then return {'busy'} end
end
local quotas, i = tonumber(ARGV[10]), 11
for q = 1, quotas do
  local key, limit, window = KEYS[7 + q], tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return {'quota', q, tonumber(oldest[2]) + window - now}
  end
  i = i + 2
end
local runs = tonumber(ARGV[i])
i = i + 1
if redis.call('ZCARD', KEYS[1]) + runs - free > tonumber(ARGV[4]) then return {'full'} end
if owner ~= '' then
  redis.call('ZADD', KEYS[4], now + hold, group)
  redis.call('PEXPIRE', KEYS[4], hold)
end
for q = 1, quotas do
  local window = tonumber(ARGV[10 + 2 * q])
  redis.call('ZADD', KEYS[7 + q], now, group)
  redis.call('PEXPIRE', KEYS[7 + q], window)
end
if runs > 1 then
  redis.call('HSET', tag .. ':group:' .. group, 'left', runs)
  redis.call('PEXPIRE', tag .. ':group:' .. group, hold)
end
local places = {'ok'}
for _ = 1, runs do
  local run, count = ARGV[i], tonumber(ARGV[i + 1])
  i = i + 2
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[2]), run)
  local run_key = tag .. ':run:' .. run
  redis.call('HSET', run_key, 'owner', owner, 'group', group, 'reply', ARGV[7], 'timeout', ARGV[8],
    'state', 'queued', 'admitted', now)
  redis.call('PEXPIRE', run_key, hold)
  redis.call('XADD', KEYS[3], '*', unpack(ARGV, i, i + count - 1))
  i = i + count
  places[#places + 1] = redis.call('ZRANK', KEYS[1], run) + 1 - free
end
return places
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

# A node takes a request it read.  KEYS: queue, running, requests.
# ARGV: run, node, entry id, group, hold ms, key tag.  1: it is this node's now; 2: it already was (a retry
# after a lost reply); 0: it was cancelled or another node has it (skip it).
START = (
    NOW
    + """
redis.call('XACK', KEYS[3], ARGV[4], ARGV[3])
redis.call('XDEL', KEYS[3], ARGV[3])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then
  if redis.call('HGET', KEYS[2], ARGV[1]) == ARGV[2] then return 2 end
  return 0
end
local hold, run_key = tonumber(ARGV[5]), ARGV[6] .. ':run:' .. ARGV[1]
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', run_key, 'node', ARGV[2], 'state', 'running', 'started', now)
redis.call('PEXPIRE', run_key, hold)
local info = redis.call('HMGET', run_key, 'owner', 'group')
if info[1] and info[1] ~= '' then
  redis.call('ZADD', ARGV[6] .. ':user:' .. info[1], 'XX', 'GT', now + hold, info[2] or ARGV[1])
end
return 1
"""
)

# A node's last word on a run: its Finished event, and (RELEASE) the member's slot back, at once.
# KEYS: running, inbox.  ARGV: run, node, event (JSON), inbox length bound, key tag.
# 0: the run is no longer this node's (it was declared dead meanwhile, or the bot gave up on it): nothing sent.
FINISH = (
    RELEASE
    + """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
release(ARGV[5], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*', 'r', ARGV[1], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[2], INBOX_TTL)
return 1
"""
)

# /stop.  KEYS: queue, running.  ARGV: run, control channel prefix, key tag.
# {'queued'}: it had not started, and now never will; {'running', node}: the node was told; {'gone'}.
CANCEL = (
    RELEASE
    + """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  release(ARGV[3], ARGV[1])
  return {'queued'}
end
local node = redis.call('HGET', KEYS[2], ARGV[1])
if node then
  redis.call('HSET', ARGV[3] .. ':run:' .. ARGV[1], 'cancel', '1')
  redis.call('PUBLISH', ARGV[2] .. node, ARGV[1])
  return {'running', node}
end
return {'gone'}
"""
)

# The bot gave up on a run (its node went silent or sent garbage): release everything; the node, if alive, is
# told to stop it and its later words are dropped (FINISH finds the run no longer its own).
# KEYS: queue, running.  ARGV: run, control channel prefix, key tag.
ABANDON = (
    RELEASE
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
local node = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
release(ARGV[3], ARGV[1])
if node then redis.call('PUBLISH', ARGV[2] .. node, ARGV[1]) end
return node or ''
"""
)

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
    + RELEASE
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
    local info = redis.call('HMGET', tag .. ':run:' .. run, 'owner', 'reply', 'started', 'timeout')
    release(tag, run)
    if info[2] then
      local elapsed = math.max(0, (now - (tonumber(info[3]) or now)) / 1000)
      elapsed = math.min(elapsed, tonumber(info[4]) or elapsed)
      local reason = string.format(
        'the runner node %s stopped answering (no heartbeat for %.1f s) while this run was going; it was not restarted',
        node, dead_after / 1000)
      local event = cjson.encode({type = 'finished', status = 'killed', elapsed = elapsed, error = reason})
      redis.call('XADD', info[2], 'MAXLEN', '~', ARGV[3], '*', 'r', run, 'e', event)
      redis.call('PEXPIRE', info[2], INBOX_TTL)
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
