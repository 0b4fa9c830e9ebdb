-- Exact, idempotent histogram totals for one start bucket.
-- KEYS[1]: totals hash (fields c = connections, b = bytes)
-- KEYS[2]: hash uid -> bytes of every connection counted in KEYS[1]
-- ARGV[1] = '+': ARGV[2..] are uid, bytes pairs to count, each only the first time it is seen.
-- ARGV[1] = '-': ARGV[2..] are uids to take out again (retention), each only if counted.
local conns, bytes = 0, 0
if ARGV[1] == '+' then
  for i = 2, #ARGV, 2 do
    if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
      conns = conns + 1
      bytes = bytes + tonumber(ARGV[i + 1])
    end
  end
else
  for i = 2, #ARGV do
    local counted = redis.call('HGET', KEYS[2], ARGV[i])
    if counted then
      redis.call('HDEL', KEYS[2], ARGV[i])
      conns = conns - 1
      bytes = bytes - tonumber(counted)
    end
  end
end
if conns ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'c', string.format('%d', conns))
  redis.call('HINCRBY', KEYS[1], 'b', string.format('%d', bytes))
  if tonumber(redis.call('HGET', KEYS[1], 'c')) <= 0 then
    redis.call('DEL', KEYS[1])
  end
end
return conns
