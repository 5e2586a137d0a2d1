-- refresh_leases.lua: the heartbeat: extend the workers' leases to `ttl` seconds
-- from now (server time), creating the leases that do not exist, and read
-- the cancel requests waiting for them.
-- KEYS[1]  P workers (the leases)
-- ARGV[1]  P (the cancel request sets P cr:<hex worker id> are derived)
-- ARGV[2]  ttl in seconds
-- ARGV[3..] worker ids
-- Returns the ids of tasks staged to these workers whose cancellation was
-- requested (read from each worker's set; an entry whose task no longer is
-- staged to that worker is dropped).
local P = ARGV[1]
local expires = num(now() + tonumber(ARGV[2]))
local requested = {}
for j = 3, #ARGV do
  local worker = ARGV[j]
  redis.call('ZADD', KEYS[1], expires, worker)
  local set = cancel_requests_key(P, worker)
  for _, id in ipairs(redis.call('SMEMBERS', set)) do
    local f = redis.call('HMGET', task_key(P, id), FIELD_STATE, FIELD_WORKER)
    if f[1] == STATE_STAGED and f[2] == worker then
      requested[#requested + 1] = id
    else
      redis.call('SREM', set, id)
    end
  end
end
return requested
