-- index.lua: index finished tasks that have no index entries yet (those
-- finished by taskkit 0.3, which kept no P ix keys); part of the lazy upgrade.
-- KEYS[1]  P done
-- ARGV[1]  P
-- ARGV[2..] task ids read from P done
-- Adding an entry twice changes nothing, so several processes may run it at once.
-- Returns how many ids had a finished task.
local P = ARGV[1]
local count = 0
for j = 2, #ARGV do
  local id = ARGV[j]
  local f = redis.call('HMGET', task_key(P, id), FIELD_STATE, FIELD_GROUP)
  if is_finished(f[1]) then
    index_finished(P, id, f[1], f[2])
    count = count + 1
  end
end
return count
