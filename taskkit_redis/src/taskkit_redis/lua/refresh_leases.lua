-- refresh_leases.lua: the heartbeat: extend the workers' leases to `ttl` seconds
-- from now (server time), creating the leases that do not exist.
-- KEYS[1]  P workers (the leases)
-- ARGV[1]  P
-- ARGV[2]  ttl in seconds
-- ARGV[3..] worker ids
local expires = num(now() + tonumber(ARGV[2]))
for j = 3, #ARGV do
  redis.call('ZADD', KEYS[1], expires, ARGV[j])
end
return #ARGV - 2
