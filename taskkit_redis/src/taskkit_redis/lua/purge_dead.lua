-- purge_dead.lua: forget every worker whose lease ended before now (server
-- time), with its claim records; returns their ids.
-- KEYS[1]  P workers
-- ARGV[1]  P (claim record keys P wc:<hex worker id> are derived)
local P = ARGV[1]
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. num(now()))
for _, worker in ipairs(dead) do
  redis.call('ZREM', KEYS[1], worker)
  redis.call('DEL', P .. 'wc:' .. hex(worker))
end
return dead
