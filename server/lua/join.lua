-- Open join mode: binds a fresh token to a group while the group has seats left.
-- KEYS: 1 tokens, 2 issued counts, 3 events, 4 version
-- ARGV: 1 token hash, 2 group, 3 seats, 4 event type, 5 schema, 6 payload
local issued = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')
if issued >= tonumber(ARGV[3]) then
  return 'group_full'
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
local version = redis.call('INCR', KEYS[4])
redis.call('XADD', KEYS[3], '*', 'v', version, 't', ARGV[4], 's', ARGV[5], 'p', ARGV[6])
return 'ok'
