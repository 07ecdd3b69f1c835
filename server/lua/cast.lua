-- Casts one ballot atomically: the token exists, belongs to the group and has not voted in
-- this round; then spend it, store the ballot (which carries no token) and append a
-- BallotCast event (round and group only). Nothing else per ballot: this script is most of
-- Redis's work in a burst, so the chair's live counts are counted from the stored ballots
-- when its view is built (`live_counts` in server/stored_ballots.py), not here.
-- KEYS: 1 tokens, 2 spent (round), 3 ballots (round), 4 events, 5 version, 6 open-round key
-- ARGV: 1 token hash, 2 round, 3 group, 4 ballot-id hash, 5 score, 6 ballot,
--       7 event type, 8 schema, 9 payload
local group = redis.call('HGET', KEYS[1], ARGV[1])
if not group or group ~= ARGV[3] then
  return 'bad_token'
end
-- A resubmission of an accepted ballot gets its receipt again, even after the round closed.
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if previous then
  if previous == ARGV[4] then
    return 'again'
  end
  return 'already_voted'
end
if redis.call('GET', KEYS[6]) ~= ARGV[2] then
  return 'not_open'
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
local version = redis.call('INCR', KEYS[5])
redis.call('XADD', KEYS[4], '*', 'v', version, 't', ARGV[7], 's', ARGV[8], 'p', ARGV[9])
return 'ok'
