-- cancel.lua: cancel tasks, each decided in this one step against claims and settles.
-- KEYS[1]  P groups (declared for cluster routing; the other keys are derived)
-- ARGV[1]  P
-- ARGV[2]  the message stored with a task cancelled while queued
-- ARGV[3..] task ids
-- A queued task is finished as cancelled at once (attempt unchanged); a staged
-- one gets a cancel request: field cr, and its id in its worker's set
-- P cr:<hex worker id>, which the heartbeat reads. Finished tasks are left as
-- they are. Returns one code per id: 0 not found, 1 cancelled, 2 requested,
-- 3 already finished.
local P, message = ARGV[1], ARGV[2]
local t = now()
local answers = {}
for j = 3, #ARGV do
  local id = ARGV[j]
  local key = task_key(P, id)
  local f = redis.call('HMGET', key,
    FIELD_STATE, FIELD_GROUP, FIELD_PRIORITY, FIELD_WORKER, FIELD_TTL, FIELD_UNIQUE_KEY)
  local answer = 3
  if not f[1] then
    answer = 0
  elseif f[1] == STATE_QUEUED then
    redis.call('ZREM', queue_key(P, f[2], f[3]), id)
    queue_left(P, f[2], f[3])
    finish(P, id, f[2], STATE_CANCELLED, message, tonumber(f[5]), f[6], t)
    answer = 1
  elseif f[1] == STATE_STAGED then
    redis.call('HSET', key, FIELD_CANCEL_REQUESTED, '1')
    redis.call('SADD', cancel_requests_key(P, f[4]), id)
    answer = 2
  end
  answers[#answers + 1] = answer
end
return answers
