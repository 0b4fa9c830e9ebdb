-- Exact, idempotent histogram totals for the buckets of one histogram shard.
-- KEYS[1]: totals hash, fields '<bucket>:c' (connections) and '<bucket>:b' (bytes)
-- KEYS[2]: hash uid -> '<bucket> <bytes>' of every connection counted in KEYS[1]
-- ARGV[1] = '+': ARGV[2..] are uid, bucket, bytes triples, each counted only the first time.
-- ARGV[1] = '-': ARGV[2..] are uids to take out again (retention), each only if counted.
local conns, bytes, buckets = {}, {}, {}
local function add(bucket, c, b)
  if not conns[bucket] then
    conns[bucket], bytes[bucket] = 0, 0
    buckets[#buckets + 1] = bucket
  end
  conns[bucket] = conns[bucket] + c
  bytes[bucket] = bytes[bucket] + b
end
if ARGV[1] == '+' then
  for i = 2, #ARGV, 3 do
    if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1] .. ' ' .. ARGV[i + 2]) == 1 then
      add(ARGV[i + 1], 1, tonumber(ARGV[i + 2]))
    end
  end
else
  for i = 2, #ARGV do
    local counted = redis.call('HGET', KEYS[2], ARGV[i])
    if counted then
      redis.call('HDEL', KEYS[2], ARGV[i])
      local bucket, b = string.match(counted, '^(%S+) (%S+)$')
      add(bucket, -1, -tonumber(b))
    end
  end
end
for _, bucket in ipairs(buckets) do
  if conns[bucket] ~= 0 then
    local left = redis.call('HINCRBY', KEYS[1], bucket .. ':c', string.format('%d', conns[bucket]))
    redis.call('HINCRBY', KEYS[1], bucket .. ':b', string.format('%d', bytes[bucket]))
    if left <= 0 then
      redis.call('HDEL', KEYS[1], bucket .. ':c', bucket .. ':b')
    end
  end
end
return #buckets
