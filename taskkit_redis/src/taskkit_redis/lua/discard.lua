-- discard.lua: delete tasks and their results, whatever their state, and
-- their index entries (also of tasks whose hash already expired).
-- KEYS[1]  P staged
-- KEYS[2]  P done
-- KEYS[3]  P expiry
-- KEYS[4]  P groups (task and queue keys are derived)
-- ARGV[1]  P
-- ARGV[2..] task ids
local P = ARGV[1]
for j = 2, #ARGV do
  local id = ARGV[j]
  local key = task_key(P, id)
  local f = redis.call('HMGET', key, FIELD_STATE, FIELD_GROUP)
  if f[1] == STATE_QUEUED then
    local queue = queue_key(P, f[2])
    redis.call('ZREM', queue, id)
    if redis.call('EXISTS', queue) == 0 then
      redis.call('SREM', KEYS[4], f[2])
    end
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('DEL', key)
end
return #ARGV - 1
