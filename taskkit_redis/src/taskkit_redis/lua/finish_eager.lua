-- finish_eager.lua: store a task that already ran outside any worker (eager
-- mode), replacing a task with the same id.
-- KEYS[1]  P done
-- KEYS[2]  P expiry
-- ARGV[1]  P
-- ARGV[2..11] the task: id, the 8 required TASK_FIELDS, the options (as put.lua)
-- ARGV[12] the outcome kind, OUTCOME_SUCCEEDED or OUTCOME_FAILED
-- ARGV[13] the result (succeeded) or the error message (failed)
local P = ARGV[1]
local t = now()
local id, group = ARGV[2], ARGV[3]
local key = task_key(P, id)
local f = redis.call('HMGET', key,
  FIELD_STATE, FIELD_GROUP, FIELD_PRIORITY, FIELD_WORKER, FIELD_UNIQUE_KEY)
unlist(P, id, f[1], f[2], f[3], f[4], f[5])
redis.call('DEL', key)
redis.call('HSET', key, FIELD_GROUP, group, FIELD_NAME, ARGV[4], FIELD_DATA, ARGV[5],
  FIELD_DUE, ARGV[6], FIELD_CREATED, ARGV[7], FIELD_SCHEDULED, ARGV[8],
  FIELD_RETRY_COUNT, ARGV[9], FIELD_TTL, ARGV[10], FIELD_ATTEMPT, '0', FIELD_BEGAN, num(t))
write_options(key, options(ARGV[11]))
local state = STATE_FAILED
if ARGV[12] == OUTCOME_SUCCEEDED then
  state = STATE_SUCCEEDED
end
finish(P, id, group, state, ARGV[13], tonumber(ARGV[10]), false, t)
return 1
