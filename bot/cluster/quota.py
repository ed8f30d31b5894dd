"""`RedisQuota`: the learner-run quota (`bot.core.playground.LearnerQuota`) in Redis, exact across every bot
process: one script checks the member's and the server's sliding windows and counts the run in both, or in
neither (Redis's clock, so processes on machines whose clocks differ agree)."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from bot.cluster.keys import Keys
from bot.cluster.scripts import NOW, text
from bot.core.playground import QuotaDecision, QuotaLimits

# KEYS: the member's uses, the server's uses.  ARGV: member runs, member window ms, server runs, server window ms,
# a unique id for this use.  {'ok'}, or {'user'|'guild', ms until the use whose leaving makes room leaves}.
TAKE = (
    NOW
    + """
local function full(key, runs, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < runs then return nil end
  local oldest = redis.call('ZRANGE', key, -runs, -runs, 'WITHSCORES')
  return math.max(0, tonumber(oldest[2]) + window - now)
end
local scopes = {
  {KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 'user'},
  {KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), 'guild'},
}
for _, s in ipairs(scopes) do
  local wait = full(s[1], s[2], s[3])
  if wait then return {s[4], wait} end
end
for _, s in ipairs(scopes) do
  redis.call('ZADD', s[1], now, ARGV[5])
  redis.call('PEXPIRE', s[1], s[3])
end
return {'ok'}
"""
)


class RedisQuota:
    def __init__(self, redis: Redis, keys: Keys, limits: QuotaLimits) -> None:
        self.keys = keys
        self.limits = limits
        self._take = redis.register_script(TAKE)

    async def take(self, guild_id: int, user_id: int) -> QuotaDecision:
        """Count one learner run for the member and the server if both have room (raises `RedisError` when Redis
        cannot be reached: the caller refuses the run, as for any failure to count it)."""
        user, guild = self.limits.user, self.limits.guild
        keys = [self.keys.key("lquota", "u", user_id), self.keys.key("lquota", "g", guild_id)]
        windows = [user.runs, int(user.seconds * 1000), guild.runs, int(guild.seconds * 1000)]
        args: list[str | int] = [*windows, secrets.token_hex(8)]
        reply = await self._take(keys=keys, args=args)
        verdict = text(reply[0])
        if verdict == "ok":
            return QuotaDecision(True)
        return QuotaDecision(False, int(reply[1]) / 1000, "user" if verdict == "user" else "guild")

