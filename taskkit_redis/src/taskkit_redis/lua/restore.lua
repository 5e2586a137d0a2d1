-- restore.lua: put back in their queues up to `limit` tasks staged to dead
-- workers, longest-held first, in one step; a task with a waiting cancel
-- request is cancelled instead.
-- KEYS[1]  P staged
-- KEYS[2]  P workers (the leases)
-- KEYS[3]  P groups (task, queue and index keys are derived)
-- ARGV[1]  P
-- ARGV[2]  limit
-- ARGV[3]  the message stored with a task cancelled here
-- A worker is dead when P workers holds no lease for it or its lease ended
-- before now (server time); the lease is read inside this step, so a worker
-- refreshing it concurrently keeps its task or loses it, never both.
-- Returns one array per restored task: worker id, task id, began, attempt.
local P, limit = ARGV[1], tonumber(ARGV[2])
local t = now()
local wake, out, alive = {}, {}, {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if #out >= limit then
    break
  end
  local f = redis.call('HMGET', task_key(P, id),
    FIELD_STATE, FIELD_WORKER, FIELD_ATTEMPT, FIELD_GROUP, FIELD_DUE, FIELD_BEGAN,
    FIELD_PRIORITY, FIELD_CANCEL_REQUESTED, FIELD_TTL, FIELD_UNIQUE_KEY)
  if f[1] ~= STATE_STAGED then
    redis.call('ZREM', KEYS[1], id) -- its task is gone
  else
    local live = alive[f[2]]
    if live == nil then
      local lease = redis.call('ZSCORE', KEYS[2], f[2])
      live = lease ~= false and tonumber(lease) >= t
      alive[f[2]] = live
    end
    if not live then
      redis.call('ZREM', KEYS[1], id)
      if f[8] then
        end_cancel_request(P, id, f[2], f[8])
        finish(P, id, f[4], STATE_CANCELLED, ARGV[3], tonumber(f[9]), f[10], t)
      else
        enqueue(P, id, f[4], f[7], f[5], t, wake)
      end
      out[#out + 1] = {f[2], id, f[6], tonumber(f[3])}
    end
  end
end
publish_wakeups(P, wake)
return out
