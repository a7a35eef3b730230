"""The Lua scripts that decide in Redis: one admission, one 429, one lease step, each atomic.

Times are Redis' own clock (`TIME`, in microseconds), so hosts whose clocks disagree still
share one schedule. Numbers are written with `%.0f` (whole microseconds), never Lua's default
14 significant digits.

**Admission** (`ADMIT`) is GCRA, reservation style: each bucket keeps its *theoretical arrival
time* `tat`. A caller is given the earliest slot at which every bucket it passes through
(its endpoint bucket, and its account bucket if any) conforms, `tat - (burst - 1) / rate`, and
not before a pause; each bucket's `tat` moves to `max(tat, slot) + 1 / rate`. The caller sleeps
until its slot: no polling, and slots are handed out in the order callers reach Redis.

**Adaptation** is shared: a bucket's rate is `ceiling` until a 429, then follows botocore's
CUBIC curve in the time since that 429, from `0.7 × rate` back up to `ceiling`, computed at
each admission, so every process sees the same lowered and recovering rate. `THROTTLE` records
a 429: it lowers the rate only when the refused request was admitted after the last lowering
(the 429s of requests admitted at the old rate carry no new news), and pauses the bucket
(for `Retry-After` when the server gave one, else one interval).

With `Limits.share_learning`, a lowering of a credential's endpoint bucket is also written to
the endpoint's *learning key*, and another credential's bucket of that endpoint that has not
been throttled since starts from the same lowered, recovering curve (as `adopt` does in one
process): a batch of many apps pays for the lesson a few times, not once per app.

**Leases** are a key per app holding its owner's token: `LEASE_ACQUIRE` (`SET NX PX`, or
who holds it and for how long), `LEASE_RENEW` and `LEASE_RELEASE`, both only by the owner.
"""

from __future__ import annotations

__all__ = ["ADMIT", "LEASE_ACQUIRE", "LEASE_RELEASE", "LEASE_RENEW", "THROTTLE"]

#: Shared by ADMIT and THROTTLE: the current rate of a bucket, and its state.
_RATE = """
local BETA = 0.7
local SCALE = 0.4
local MIN_RATE = 0.25

local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local function load(key)
  local h = redis.call('HMGET', key, 'tat', 'paused', 'max', 'thr')
  return tonumber(h[1]), tonumber(h[2]) or 0, tonumber(h[3]), tonumber(h[4])
end

local function rate_of(now, ceiling, adaptive, last_max, thr)
  if not adaptive or not thr or not last_max then
    return ceiling
  end
  local elapsed = (now - thr) / 1000000
  local k = (last_max * (1 - BETA) / SCALE) ^ (1 / 3)
  local rate = SCALE * (elapsed - k) ^ 3 + last_max
  return math.max(MIN_RATE, math.min(ceiling, rate))
end

-- Share learning: a bucket whose own last 429 is older than its endpoint's last lesson (a
-- 429 on another credential's bucket) starts from that lesson's curve, when it is lower.
local function adopt(key, group, now, ceiling, last_max, thr)
  local g = redis.call('HMGET', group, 'max', 'thr')
  local gmax, gthr = tonumber(g[1]), tonumber(g[2])
  if not gmax or not gthr or (thr and thr >= gthr) then
    return last_max, thr
  end
  local theirs = rate_of(now, ceiling, true, gmax, gthr)
  if theirs >= rate_of(now, ceiling, true, last_max, thr) then
    return last_max, thr
  end
  redis.call('HSET', key, 'max', string.format('%.6f', gmax), 'thr', string.format('%.0f', gthr))
  return gmax, gthr
end

local function num(x)
  return string.format('%.0f', x)
end

local function keep(key, tat, now, idle_ms)
  local ms = math.max(0, math.ceil((tat - now) / 1000)) + idle_ms
  redis.call('PEXPIRE', key, ms)
end
"""

#: KEYS: bucket keys, then optionally the endpoint's learning key. ARGV: idle_ms, then
#: (ceiling, burst, adaptive 0/1) per bucket. Returns {wait_us, decided_at_us, rate_milli of
#: the first bucket}.
ADMIT = (
    _RATE
    + """
local now = now_us()
local idle = tonumber(ARGV[1])
local buckets = math.floor((#ARGV - 1) / 3)
local group = KEYS[buckets + 1]
local slot = now
local seen = {}
for i = 1, buckets do
  local ceiling = tonumber(ARGV[2 + (i - 1) * 3])
  local burst = tonumber(ARGV[3 + (i - 1) * 3])
  local adaptive = ARGV[4 + (i - 1) * 3] == '1'
  local tat, paused, last_max, thr = load(KEYS[i])
  tat = tat or now
  if i == 1 and group and adaptive then
    last_max, thr = adopt(KEYS[1], group, now, ceiling, last_max, thr)
  end
  local rate = rate_of(now, ceiling, adaptive, last_max, thr)
  local interval = 1000000 / rate
  slot = math.max(slot, tat - (burst - 1) * interval, paused)
  seen[i] = {tat, interval, rate}
end
for i = 1, buckets do
  local tat = math.max(seen[i][1], slot) + seen[i][2]
  redis.call('HSET', KEYS[i], 'tat', num(tat))
  keep(KEYS[i], tat, now, idle)
end
return {math.floor(slot - now), now, math.floor(seen[1][3] * 1000)}
"""
)

#: KEYS: bucket keys, then optionally the endpoint's learning key. ARGV: decided_at_us (-1:
#: unknown), retry_after_us (-1: none), idle_ms, then (ceiling, burst, adaptive 0/1) per
#: bucket. Returns {lowered 0/1, rate_milli of the first bucket}.
THROTTLE = (
    _RATE
    + """
local now = now_us()
local decided = tonumber(ARGV[1])
local retry_after = tonumber(ARGV[2])
local idle = tonumber(ARGV[3])
local buckets = math.floor((#ARGV - 3) / 3)
local group = KEYS[buckets + 1]
local lowered = 0
local first_rate = 0
for i = 1, buckets do
  local ceiling = tonumber(ARGV[4 + (i - 1) * 3])
  local burst = tonumber(ARGV[5 + (i - 1) * 3])
  local adaptive = ARGV[6 + (i - 1) * 3] == '1'
  local tat, paused, last_max, thr = load(KEYS[i])
  tat = tat or now
  local rate = rate_of(now, ceiling, adaptive, last_max, thr)
  if adaptive and (not thr or decided < 0 or decided >= thr) then
    redis.call('HSET', KEYS[i], 'max', string.format('%.6f', rate), 'thr', num(now))
    rate = math.max(MIN_RATE, rate * BETA)
    lowered = 1
    if i == 1 and group then  -- the lesson, for this endpoint's other credentials
      redis.call('HSET', group, 'max', string.format('%.6f', rate / BETA), 'thr', num(now))
      redis.call('PEXPIRE', group, idle)
    end
  end
  local interval = 1000000 / rate
  local pause = interval
  if retry_after >= 0 then
    pause = retry_after
  end
  paused = math.max(paused, now + pause)
  tat = math.max(tat, paused + (burst - 1) * interval)
  redis.call('HSET', KEYS[i], 'paused', num(paused), 'tat', num(tat))
  keep(KEYS[i], tat, now, idle)
  if i == 1 then
    first_rate = rate
  end
end
return {lowered, math.floor(first_rate * 1000)}
"""
)

#: KEYS: the lease key. ARGV: the owner's value, ttl_ms.
#: Returns {1, '', 0} when taken, else {0, the holder's value, its ms to live}.
LEASE_ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, '', 0}
end
return {0, redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}
"""

#: KEYS: the lease key. ARGV: the owner's value, ttl_ms. Returns 1 when renewed, 0 when the
#: lease is no longer this owner's (it expired, and perhaps another took it).
LEASE_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

#: KEYS: the lease key. ARGV: the owner's value. Returns 1 when deleted, 0 when it was not
#: this owner's (expired, or taken over): then it is left alone.
LEASE_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
