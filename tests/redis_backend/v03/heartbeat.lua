-- heartbeat.lua: mark workers alive for `ttl` more seconds of server time.
-- KEYS[1]  P workers
-- ARGV[1]  P
-- ARGV[2]  ttl in seconds
-- ARGV[3..] worker ids
local expires = num(now() + tonumber(ARGV[2]))
for j = 3, #ARGV do
  redis.call('ZADD', KEYS[1], expires, ARGV[j])
end
return #ARGV - 2
