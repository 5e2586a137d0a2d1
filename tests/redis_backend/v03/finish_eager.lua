-- finish_eager.lua: store a task that already ran outside any worker (eager mode).
-- KEYS[1]  P done
-- KEYS[2]  P expiry
-- ARGV[1]  P
-- ARGV[2..10] the task: id, group, name, data, due, created, scheduled, retry_count, ttl
-- ARGV[11] succeeded | failed
-- ARGV[12] the result (succeeded) or the error message (failed)
local P = ARGV[1]
local t = now()
local key = task_key(P, ARGV[2])
redis.call('DEL', key)
redis.call('HSET', key, 'g', ARGV[3], 'n', ARGV[4], 'd', ARGV[5], 'due', ARGV[6],
  'c', ARGV[7], 's', ARGV[8], 'r', ARGV[9], 'ttl', ARGV[10], 'a', '0', 'b', num(t))
finish(P, KEYS[1], KEYS[2], ARGV[2], ARGV[11], ARGV[12], tonumber(ARGV[10]), t)
return 1
