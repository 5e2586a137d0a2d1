-- purge.lua: delete up to `batch` finished tasks of one group in one state,
-- oldest id first: one bounded step of purge_tasks, which repeats it.
-- KEYS[1]  P ix:<state>:<hex group>   the group's index of that state
-- ARGV[1]  P
-- ARGV[2]  the state (stored form, a finished one)
-- ARGV[3]  the group
-- ARGV[4]  batch size
-- Entries whose task is gone or in another state are dropped, not counted.
-- Returns {tasks deleted, index entries read}; 0 entries read means done.
local P, state, group = ARGV[1], ARGV[2], ARGV[3]
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
local deleted = 0
for _, id in ipairs(ids) do
  local key = task_key(P, id)
  local f = redis.call('HMGET', key, FIELD_STATE, FIELD_UNIQUE_KEY)
  if f[1] == state then
    unindex_finished(P, id, state, group)
    release_unique(P, group, f[2], id)
    redis.call('DEL', key)
    deleted = deleted + 1
  elseif f[1] then
    drop_index_entries(P, id, state, hex(group)) -- a stale entry
  else
    unindex_gone(P, id) -- its hash expired
    redis.call('ZREM', KEYS[1], id)
  end
end
return {deleted, #ids}
