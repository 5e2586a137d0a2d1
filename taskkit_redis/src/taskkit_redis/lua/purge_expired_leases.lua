-- purge_expired_leases.lua: drop every lease that ended before now (server
-- time), with its worker's claim records and cancel requests; returns the ids
-- of those dead workers.
-- KEYS[1]  P workers (the leases)
-- ARGV[1]  P (keys P wc:<hex worker id> and P cr:<hex worker id> are derived)
local P = ARGV[1]
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. num(now()))
for _, worker in ipairs(dead) do
  redis.call('ZREM', KEYS[1], worker)
  redis.call('DEL', P .. KEY_WORKER_CLAIMS .. hex(worker), cancel_requests_key(P, worker))
end
return dead
