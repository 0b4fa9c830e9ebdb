-- Widens the held time range. KEYS[1]: hash with fields first, last, latest_start.
-- ARGV[1]: earliest start, ARGV[2]: latest end, ARGV[3]: latest start of a batch (exact
-- decimal text).
local function widen(field, value, wider)
  local held = redis.call('HGET', KEYS[1], field)
  if not held or wider(tonumber(value), tonumber(held)) then
    redis.call('HSET', KEYS[1], field, value)
  end
end
local function earlier(a, b) return a < b end
local function later(a, b) return a > b end
widen('first', ARGV[1], earlier)
widen('last', ARGV[2], later)
widen('latest_start', ARGV[3], later)
return 1
