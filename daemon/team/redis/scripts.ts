// The Lua scripts: each runs atomically in Redis, so daemons racing for the last of a budget or of a
// rate limit cannot both win. Both hand out leases (a part of the budget, a batch of a rate limit) the
// daemon then spends locally, so most requests need no round trip to Redis at all. Time comes from Redis (TIME), never from the daemons' clocks.
// Amounts are integers: budget units of 1e-10 USD (spend/cost.ts), so sums never drift.

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Lease: a daemon's share of the team's hard budgets, and its spend since the last lease. KEYS: 5 per
 * budget (spent, reserved total, holds: daemon -> expiry, held: daemon -> units, flushed: daemon -> last
 * sequence counted). ARGV: daemon id, hold ms, key ttl ms, then per budget: sequence, delta, want, limit
 * (-1: none, an alert budget). The delta is counted once per (daemon, sequence): a lease sent again
 * after a timeout counts nothing twice. Holds of daemons that stopped renewing expire. The grant is what
 * the daemon wants, at most what neither spend nor the other daemons' holds take. Returns per budget
 * {granted, spent, others' holds}.
 */
export const LEASE = `${NOW}
local id = ARGV[1]
local holdMs = tonumber(ARGV[2])
local out = {}
for i = 1, #KEYS / 5 do
  local s, r, z, h, f = KEYS[5*i-4], KEYS[5*i-3], KEYS[5*i-2], KEYS[5*i-1], KEYS[5*i]
  local a = 3 + 4 * (i - 1)
  local seq, delta, want, limit = tonumber(ARGV[a+1]), tonumber(ARGV[a+2]), tonumber(ARGV[a+3]), tonumber(ARGV[a+4])
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', z, '-inf', now)) do
    redis.call('DECRBY', r, tonumber(redis.call('HGET', h, m) or '0'))
    redis.call('HDEL', h, m)
    redis.call('ZREM', z, m)
  end
  if delta ~= 0 and seq > tonumber(redis.call('HGET', f, id) or '0') then
    redis.call('INCRBY', s, delta)
    redis.call('HSET', f, id, seq)
  end
  local spent = tonumber(redis.call('GET', s) or '0')
  local mine = tonumber(redis.call('HGET', h, id) or '0')
  local others = math.max(0, tonumber(redis.call('GET', r) or '0') - mine)
  local granted = 0
  if limit >= 0 then granted = math.max(0, math.min(want, limit - spent - others)) end
  if granted > 0 then
    redis.call('HSET', h, id, granted)
    redis.call('ZADD', z, now + holdMs, id)
  else
    redis.call('HDEL', h, id)
    redis.call('ZREM', z, id)
  end
  redis.call('INCRBY', r, granted - mine)
  for _, k in ipairs({s, r, z, h, f}) do redis.call('PEXPIRE', k, ARGV[3]) end
  out[3*i-2], out[3*i-1], out[3*i] = granted, spent, others
end
return out
`;

/**
 * GCRA over a deployment's requests (KEYS[1]) and tokens (KEYS[2]), either or both, granting a batch
 * the daemon then admits locally. ARGV: ms per request, burst in requests, requests wanted, ms per
 * token, burst in tokens, tokens wanted, tokens needed at least (0 ms per unit = that limit is not
 * set). Grants at least one request and the tokens needed, or nothing. Returns {requests, tokens, 0}
 * or {0, 0, ms to wait}.
 */
export const RATE = `${NOW}
local function room(key, interval, burst)
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now)
  return math.floor((now + interval * burst - tat) / interval), tat
end
local ri, rb, rw, ti, tb, tw, tn = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local rg, tg, rtat, ttat = rw, tw, 0, 0
if ri > 0 then
  local n
  n, rtat = room(KEYS[1], ri, rb)
  if n < 1 then return {0, 0, math.ceil(rtat + ri - ri * rb - now)} end
  rg = math.min(rw, n)
end
if ti > 0 then
  local n
  n, ttat = room(KEYS[2], ti, tb)
  if n < tn then return {0, 0, math.ceil(ttat + ti * (tn - n) - now)} end
  tg = math.min(tw, n)
end
if ri > 0 then
  local tat = rtat + ri * rg
  redis.call('SET', KEYS[1], math.ceil(tat), 'PX', math.ceil(tat - now) + 1000)
end
if ti > 0 then
  local tat = ttat + ti * tg
  redis.call('SET', KEYS[2], math.ceil(tat), 'PX', math.ceil(tat - now) + 1000)
end
return {rg, tg, 0}
`;

/** Heartbeat. KEYS[1]: the daemons' sorted set. ARGV: daemon id, ttl ms. Returns how many are live. */
export const HEARTBEAT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;
