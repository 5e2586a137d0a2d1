-- schedule.lua: store a scheduler's state and queue its tasks in one step,
-- only if the stored state is the expected one (compare-and-set).
-- KEYS[1]  P schedulers
-- ARGV[1]  P
-- ARGV[2]  scheduler name
-- ARGV[3]  '1' when a state is expected, '0' when none may be stored yet
-- ARGV[4]  the expected state (ignored with '0')
-- ARGV[5]  the new state
-- ARGV[6..] the tasks, 10 entries each as in put.lua (unique keys honoured)
-- Returns 1 when stored, 0 when the stored state differed (nothing changed).
local P = ARGV[1]
local stored = redis.call('HGET', KEYS[1], ARGV[2])
if ARGV[3] == '1' then
  if stored ~= ARGV[4] then
    return 0
  end
elseif stored then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[5])
local wake = {}
put_tasks(P, 6, now(), wake)
publish_wakeups(P, wake)
return 1
