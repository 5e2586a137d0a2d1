-- settle.lua: apply the outcomes of claimed attempts, in order, in one step.
-- Fencing: an outcome takes effect only while its task is staged to the
-- outcome's worker at the outcome's attempt (compare-and-set).
-- KEYS[1]  P staged
-- KEYS[2]  P done
-- KEYS[3]  P expiry
-- KEYS[4]  P groups (task and queue keys are derived)
-- ARGV[1]  P
-- ARGV[2..] 6 per outcome: kind, task id, worker id, attempt, payload, delay
--   kind succeeded: payload is the result; failed: payload is the message;
--   retried: queued again, due `delay` s from now, retry_count + 1;
--   released: queued again unchanged, its attempt given back; discarded: deleted.
-- Returns one 1 (applied) or 0 (refused) per outcome.
local P = ARGV[1]
local t = now()
local wake, answers = {}, {}
for j = 2, #ARGV, 6 do
  local kind = ARGV[j]
  if kind ~= 'succeeded' and kind ~= 'failed' and kind ~= 'retried'
      and kind ~= 'released' and kind ~= 'discarded' then
    return redis.error_reply('settle.lua: unknown outcome kind')
  end
end
for j = 2, #ARGV, 6 do
  local kind, id, worker, attempt = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
  local key = task_key(P, id)
  local f = redis.call('HMGET', key, 'st', 'w', 'a', 'g', 'due', 'r', 'ttl')
  if f[1] ~= 'staged' or f[2] ~= worker or f[3] ~= attempt then
    answers[#answers + 1] = 0
  else
    redis.call('ZREM', KEYS[1], id)
    if kind == 'succeeded' or kind == 'failed' then
      finish(P, KEYS[2], KEYS[3], id, kind, ARGV[j + 4], tonumber(f[7]), t)
    elseif kind == 'retried' then
      local due = num(t + tonumber(ARGV[j + 5]))
      redis.call('HSET', key, 'due', due, 'r', string.format('%d', tonumber(f[6]) + 1))
      enqueue(P, id, f[4], due, t, wake)
    elseif kind == 'released' then
      redis.call('HINCRBY', key, 'a', -1) -- never started: the attempt is given back
      enqueue(P, id, f[4], f[5], t, wake)
    else
      redis.call('DEL', key)
    end
    answers[#answers + 1] = 1
  end
end
publish_wakeups(P, wake)
return answers
