-- Appends a chair action's events atomically, if the agenda has not moved meanwhile.
-- KEYS: 1 events stream, 2 version, 3 agenda version, 4 open-round key
-- ARGV: 1 expected agenda version ('' = do not check), 2 open-round change ('' | 'open' | 'close'),
--       3 the round id for 'open', then (type, schema, payload, moves_agenda) per event
local agenda = tonumber(redis.call('GET', KEYS[3]) or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= agenda then
  return {'conflict', agenda}
end
if ARGV[2] == 'open' then
  redis.call('SET', KEYS[4], ARGV[3])
elseif ARGV[2] == 'close' then
  redis.call('DEL', KEYS[4])
end
local version = 0
for i = 4, #ARGV, 4 do
  version = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], '*', 'v', version, 't', ARGV[i], 's', ARGV[i + 1], 'p', ARGV[i + 2])
  if ARGV[i + 3] == '1' then
    agenda = redis.call('INCR', KEYS[3])
  end
end
return {'ok', version, agenda}
