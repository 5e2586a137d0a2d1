-- finish_eager.lua: store a task that already ran outside any worker (eager mode).
-- KEYS[1]  P done
-- KEYS[2]  P expiry
-- ARGV[1]  P
-- ARGV[2..10] the task: id, group, name, data, due, created, scheduled, retry_count, ttl
-- ARGV[11] the outcome kind, OUTCOME_SUCCEEDED or OUTCOME_FAILED
-- ARGV[12] the result (succeeded) or the error message (failed)
local P = ARGV[1]
local t = now()
local key = task_key(P, ARGV[2])
redis.call('DEL', key)
redis.call('HSET', key, FIELD_GROUP, ARGV[3], FIELD_NAME, ARGV[4], FIELD_DATA, ARGV[5],
  FIELD_DUE, ARGV[6], FIELD_CREATED, ARGV[7], FIELD_SCHEDULED, ARGV[8],
  FIELD_RETRY_COUNT, ARGV[9], FIELD_TTL, ARGV[10], FIELD_ATTEMPT, '0', FIELD_BEGAN, num(t))
finish(P, KEYS[1], KEYS[2], ARGV[2], ARGV[11], ARGV[12], tonumber(ARGV[10]), t)
return 1
