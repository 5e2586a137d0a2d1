-- settle.lua: apply the outcomes of claimed attempts, in order, in one step.
-- Fencing: an outcome takes effect only while its task is staged to the
-- outcome's worker at the outcome's attempt (compare-and-set).
-- KEYS[1]  P staged
-- KEYS[2]  P done
-- KEYS[3]  P expiry
-- KEYS[4]  P groups (task, queue, index, unique and cancel request keys are derived)
-- ARGV[1]  P
-- ARGV[2..] 6 per outcome: kind, task id, worker id, attempt, payload, delay
--   kind succeeded: payload is the result; failed and cancelled: payload is the
--   message; retried: queued again, due `delay` s from now, retry_count + 1;
--   released: queued again unchanged, its attempt given back; discarded: deleted.
-- Any outcome ends the attempt's cancel request.
-- Returns one 1 (applied) or 0 (refused) per outcome.
local P = ARGV[1]
local t = now()
local wake, answers = {}, {}
local FINISHING = {
  [OUTCOME_SUCCEEDED] = STATE_SUCCEEDED,
  [OUTCOME_FAILED] = STATE_FAILED,
  [OUTCOME_CANCELLED] = STATE_CANCELLED,
}
for j = 2, #ARGV, 6 do
  local kind = ARGV[j]
  if not FINISHING[kind] and kind ~= OUTCOME_RETRIED and kind ~= OUTCOME_RELEASED
      and kind ~= OUTCOME_DISCARDED then
    return redis.error_reply('settle.lua: unknown outcome kind')
  end
end
for j = 2, #ARGV, 6 do
  local kind, id, worker, attempt = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  local key = task_key(P, id)
  local f = redis.call('HMGET', key, FIELD_STATE, FIELD_WORKER, FIELD_ATTEMPT, FIELD_GROUP,
    FIELD_DUE, FIELD_RETRY_COUNT, FIELD_TTL, FIELD_PRIORITY, FIELD_UNIQUE_KEY,
    FIELD_CANCEL_REQUESTED)
  if f[1] ~= STATE_STAGED or f[2] ~= worker or f[3] ~= attempt then
    answers[#answers + 1] = 0
  else
    redis.call('ZREM', KEYS[1], id)
    end_cancel_request(P, id, worker, f[10])
    if FINISHING[kind] then
      finish(P, id, f[4], FINISHING[kind], ARGV[j + 4], tonumber(f[7]), f[9], t)
    elseif kind == OUTCOME_RETRIED then
      local due = num(t + tonumber(ARGV[j + 5]))
      local retries = string.format('%d', tonumber(f[6]) + 1)
      redis.call('HSET', key, FIELD_DUE, due, FIELD_RETRY_COUNT, retries)
      enqueue(P, id, f[4], f[8], due, t, wake)
    elseif kind == OUTCOME_RELEASED then
      redis.call('HINCRBY', key, FIELD_ATTEMPT, -1) -- never started: the attempt is given back
      enqueue(P, id, f[4], f[8], f[5], t, wake)
    else
      release_unique(P, f[4], f[9], id)
      redis.call('DEL', key)
    end
    answers[#answers + 1] = 1
  end
end
publish_wakeups(P, wake)
return answers
