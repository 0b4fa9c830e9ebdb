-- Widens the held time range. KEYS[1]: hash with fields first, last.
-- ARGV[1]: earliest start, ARGV[2]: latest end of a batch (exact decimal text).
local first = redis.call('HGET', KEYS[1], 'first')
if not first or tonumber(ARGV[1]) < tonumber(first) then
  redis.call('HSET', KEYS[1], 'first', ARGV[1])
end
local last = redis.call('HGET', KEYS[1], 'last')
if not last or tonumber(ARGV[2]) > tonumber(last) then
  redis.call('HSET', KEYS[1], 'last', ARGV[2])
end
return 1
