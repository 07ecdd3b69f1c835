-- Casts one ballot atomically: the token exists, belongs to the group and has not voted in
-- this round; then spend it, store the ballot (which carries no token) and append a
-- BallotCast event (round and group only). Nothing else per ballot: this script is most of
-- Redis's work in a burst, so the chair's live counts are counted from the stored ballots
-- when its view is built (`live_counts` in server/stored_ballots.py), not here.
-- KEYS: 1 tokens, 2 spent (round), 3 ballots (round), 4 events, 5 version, 6 open-round key
-- ARGV: 1 token hash, 2 round, 3 group, 4 ballot fingerprint, 5 receipt attempt, 6 score,
--       7 ballot, 8 event type, 9 schema, 10 payload
-- Replies: 'ok', 'again:<attempt>', 'already_voted', 'not_open', 'bad_token', 'receipt_taken'.
local group = redis.call('HGET', KEYS[1], ARGV[1])
if not group or group ~= ARGV[3] then
  return 'bad_token'
end
-- The same ballot sent again gets its receipt again, even after the round closed; the spent
-- entry is '<fingerprint>:<attempt>', so the server can derive that receipt once more.
local previous = redis.call('HGET', KEYS[2], ARGV[1])
if previous then
  local fingerprint, attempt = string.match(previous, '^(%x+):(%d+)$')
  if fingerprint == ARGV[4] then
    return 'again:' .. attempt
  end
  return 'already_voted'
end
if redis.call('GET', KEYS[6]) ~= ARGV[2] then
  return 'not_open'
end
-- Two ballots never share a receipt: the server derives the next one and tries again.
if redis.call('ZCOUNT', KEYS[3], ARGV[6], ARGV[6]) > 0 then
  return 'receipt_taken'
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4] .. ':' .. ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[6], ARGV[7])
local version = redis.call('INCR', KEYS[5])
redis.call('XADD', KEYS[4], '*', 'v', version, 't', ARGV[8], 's', ARGV[9], 'p', ARGV[10])
return 'ok'
