-- disposable.lua: ids of finished tasks whose ttl ran out before now (server
-- time), oldest first, at most `limit` (including those whose hash expired).
-- KEYS[1]  P expiry
-- ARGV[1]  P
-- ARGV[2]  limit
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. num(now()), 'LIMIT', 0, tonumber(ARGV[2]))
