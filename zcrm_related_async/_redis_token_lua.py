"""The Lua scripts of :class:`~zcrm_related_async.RedisTokenCache` (see ``_redis_token``).

Every script reads Redis' own clock (``TIME``), so the workers' clocks never matter.
"""

from __future__ import annotations

#: Seconds a wake-up waits in its list for a waiter (more than any BLPOP lasts).
_WAKE_TTL_MS = 10_000
#: Until the refresh answers, its token is counted alive this long (Zoho's tokens live 1 h).
_PROVISIONAL_LIFE_MS = 3_600_000

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""
#: KEYS token. -> {} or {token, ms until it should be refreshed}
GET = f"""{_NOW}
local t = redis.call('HMGET', KEYS[1], 'token', 'refresh_at')
if not t[1] then return {{}} end
return {{t[1], tonumber(t[2]) - now}}
"""
#: KEYS token, lock, minted, alive, waiting.
#: ARGV stale ('' = none), owner, lease ms, refresh limit, window ms, max alive, waiter, cap ms.
#: -> {1, token, ms until refresh}: use it; {2, '', ms}: wait for the refresh under way;
#:    {3, '', ms}: wait for the budget; {0, '', 0}: the lock is ours, refresh.
BEGIN = f"""{_NOW}
local t = redis.call('HMGET', KEYS[1], 'token', 'refresh_at')
if t[1] and t[1] ~= ARGV[1] and tonumber(t[2]) > now then
  return {{1, t[1], tonumber(t[2]) - now}}
end
local wait = 0
local kind = 2
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 or ttl == -1 then
  wait = ttl > 0 and ttl or tonumber(ARGV[3])
else
  kind = 3
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[5]))
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[4]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    wait = math.max(wait, tonumber(oldest[2]) + tonumber(ARGV[5]) - now)
  end
  local alive = redis.call('ZCARD', KEYS[4])
  if alive >= tonumber(ARGV[6]) then
    local i = alive - tonumber(ARGV[6])
    local first = redis.call('ZRANGE', KEYS[4], i, i, 'WITHSCORES')
    wait = math.max(wait, tonumber(first[2]) - now)
  end
end
if wait > 0 then
  local until_ms = now + math.min(wait, tonumber(ARGV[8]))
  redis.call('ZADD', KEYS[5], until_ms, ARGV[7])
  redis.call('PEXPIRE', KEYS[5], math.min(wait, tonumber(ARGV[8])) + 1000)
  return {{kind, '', math.max(wait, 1)}}
end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[3], now, ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
redis.call('ZADD', KEYS[4], now + {_PROVISIONAL_LIFE_MS}, ARGV[2])
if redis.call('PTTL', KEYS[4]) < {_PROVISIONAL_LIFE_MS} then
  redis.call('PEXPIRE', KEYS[4], {_PROVISIONAL_LIFE_MS})
end
return {{0, '', 0}}
"""
#: KEYS token, lock, alive, waiting, wake. ARGV owner, token ('' = none minted), life ms,
#: margin ms, alive member. Stores the token, frees the lock, wakes every waiter. -> 1
END = f"""{_NOW}
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'token', ARGV[2], 'refresh_at', now + ARGV[3] - ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZADD', KEYS[3], now + ARGV[3], ARGV[5])
end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
local waiters = redis.call('ZCOUNT', KEYS[4], now, '+inf')
redis.call('DEL', KEYS[4])
for _ = 1, waiters do redis.call('RPUSH', KEYS[5], 1) end
if waiters > 0 then redis.call('PEXPIRE', KEYS[5], {_WAKE_TTL_MS}) end
return 1
"""
#: KEYS lock. ARGV owner, lease ms. -> 1 if the lock is still ours (and was extended).
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
