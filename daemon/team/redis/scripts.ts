// The Lua scripts: each runs atomically in Redis, so daemons racing for the last of a budget or of a
// rate limit cannot both win. Time comes from Redis (TIME), never from the daemons' clocks.
// Amounts are integers: budget units of 1e-10 USD (spend/cost.ts), so sums never drift.

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Reserve. KEYS: 4 per budget (spent, reserved, holds, held). ARGV: request id, estimate, hold ms,
 * key ttl ms, then per budget its limit and mode ("b" block: refuse when spent + reserved + estimate
 * passes the limit; "d" downgrade: refuse when spent + reserved reaches it). Expired holds go first.
 * Returns {0, spent...} when every budget takes the hold, else {i, spent, reserved} of the first refusing.
 */
export const RESERVE = `${NOW}
local id = ARGV[1]
local est = tonumber(ARGV[2])
local n = #KEYS / 4
local spentv = {}
for i = 1, n do
  local s, r, z, h = KEYS[4*i-3], KEYS[4*i-2], KEYS[4*i-1], KEYS[4*i]
  local old = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  for _, m in ipairs(old) do
    local u = tonumber(redis.call('HGET', h, m) or '0')
    redis.call('DECRBY', r, u)
    redis.call('HDEL', h, m)
    redis.call('ZREM', z, m)
  end
  local spent = tonumber(redis.call('GET', s) or '0')
  local reserved = math.max(0, tonumber(redis.call('GET', r) or '0'))
  local limit = tonumber(ARGV[3 + 2*i])
  local mode = ARGV[4 + 2*i]
  if spent >= limit or (mode == 'b' and spent + reserved + est > limit) or (mode == 'd' and spent + reserved >= limit) then
    return {i, spent, reserved}
  end
  spentv[i] = spent
end
local out = {0}
for i = 1, n do
  local s, r, z, h = KEYS[4*i-3], KEYS[4*i-2], KEYS[4*i-1], KEYS[4*i]
  if est > 0 and redis.call('HSETNX', h, id, est) == 1 then
    redis.call('ZADD', z, now + tonumber(ARGV[3]), id)
    redis.call('INCRBY', r, est)
  end
  for _, k in ipairs({s, r, z, h}) do redis.call('PEXPIRE', k, ARGV[4]) end
  out[i + 1] = spentv[i]
end
return out
`;

/**
 * Settle a finished request. KEYS: m spent keys (the budgets that count its cost), then 3 per budget
 * it held (reserved, holds, held), then its settled marker. ARGV: request id, units, m, key ttl ms,
 * marker ttl ms. The cost is counted once per request id, however often this runs; holds are released.
 * Returns each counted budget's spent.
 */
export const SETTLE = `
local id = ARGV[1]
local m = tonumber(ARGV[3])
if m > 0 and redis.call('SET', KEYS[#KEYS], '1', 'NX', 'PX', ARGV[5]) then
  for i = 1, m do
    redis.call('INCRBY', KEYS[i], ARGV[2])
    redis.call('PEXPIRE', KEYS[i], ARGV[4])
  end
end
for j = m + 1, #KEYS - 1, 3 do
  local u = redis.call('HGET', KEYS[j + 2], id)
  if u then
    redis.call('DECRBY', KEYS[j], u)
    redis.call('HDEL', KEYS[j + 2], id)
    redis.call('ZREM', KEYS[j + 1], id)
  end
end
local out = {}
for i = 1, m do out[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
return out
`;

/**
 * GCRA over a deployment's requests (KEYS[1]) and tokens (KEYS[2]), both or either. ARGV: ms per
 * request, burst in requests, tokens, ms per token, burst in tokens (0 = that limit is not set).
 * Admits only when both have room and then charges both. Returns 0, or the ms to wait.
 */
export const RATE = `${NOW}
local function check(key, interval, burst, cost)
  if interval <= 0 then return 0, 0 end
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now)
  local new = tat + interval * cost
  local wait = new - interval * burst - now
  return new, wait
end
local rNew, rWait = check(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), 1)
local tNew, tWait = check(KEYS[2], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[3]))
local wait = math.max(rWait, tWait)
if wait > 0 then return math.ceil(wait) end
if rNew > 0 then redis.call('SET', KEYS[1], math.ceil(rNew), 'PX', math.ceil(rNew - now) + 1000) end
if tNew > 0 then redis.call('SET', KEYS[2], math.ceil(tNew), 'PX', math.ceil(tNew - now) + 1000) end
return 0
`;

/** Heartbeat. KEYS[1]: the daemons' sorted set. ARGV: daemon id, ttl ms. Returns how many are live. */
export const HEARTBEAT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`;
