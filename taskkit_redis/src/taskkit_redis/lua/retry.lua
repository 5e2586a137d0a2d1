-- retry.lua: queue failed or cancelled tasks again, due now, in one step.
-- KEYS[1]  P groups (declared for cluster routing; the other keys are derived)
-- ARGV[1]  P
-- ARGV[2..] task ids
-- A retried task gets retry_count 0 and attempt 0, loses its result, finish
-- time, expiry and index entries, and keeps its error message (``err``) until
-- it finishes again; it holds its unique key again unless a task that counts
-- took it meanwhile. Others are left as they are.
-- Returns one code per id: 0 not found, 1 queued, 2 not retryable.
local P = ARGV[1]
local t = now()
local wake, answers = {}, {}
for j = 2, #ARGV do
  local id = ARGV[j]
  local key = task_key(P, id)
  local f = redis.call('HMGET', key, FIELD_STATE, FIELD_GROUP, FIELD_PRIORITY,
    FIELD_UNIQUE_KEY, FIELD_CREATED, FIELD_UNIQUE_PERIOD)
  local answer = 2
  if not f[1] then
    answer = 0
  elseif f[1] == STATE_FAILED or f[1] == STATE_CANCELLED then
    unindex_finished(P, id, f[1], f[2])
    redis.call('PERSIST', key)
    redis.call('HDEL', key, FIELD_FINISHED, FIELD_RESULT)
    local due = num(t)
    redis.call('HSET', key, FIELD_DUE, due, FIELD_RETRY_COUNT, '0', FIELD_ATTEMPT, '0')
    enqueue(P, id, f[2], f[3], due, t, wake)
    if f[4] then
      take_unique(P, f[2], f[4], id, f[5], f[6] or '', t) -- unless another task holds it now
    end
    answer = 1
  end
  answers[#answers + 1] = answer
end
publish_wakeups(P, wake)
return answers
