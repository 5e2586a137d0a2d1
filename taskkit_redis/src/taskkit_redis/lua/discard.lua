-- discard.lua: delete tasks and their results, whatever their state, and
-- their index entries (also of tasks whose hash already expired).
-- KEYS[1]  P staged
-- KEYS[2]  P done
-- KEYS[3]  P expiry
-- KEYS[4]  P groups (task, queue, index and unique keys are derived)
-- ARGV[1]  P
-- ARGV[2..] task ids
local P = ARGV[1]
for j = 2, #ARGV do
  local id = ARGV[j]
  local key = task_key(P, id)
  local f = redis.call('HMGET', key,
    FIELD_STATE, FIELD_GROUP, FIELD_PRIORITY, FIELD_WORKER, FIELD_UNIQUE_KEY)
  if f[1] then
    unlist(P, id, f[1], f[2], f[3], f[4], f[5])
  else
    unindex_gone(P, id)
  end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('DEL', key)
end
return #ARGV - 1
