-- claim.lua: stage up to `limit` due tasks of one group to a worker, highest
-- priority first, then earliest due, then smallest id, in one step.
-- KEYS[1]  P q:<hex group>   the group's queue of priority 0 (the others are
--          derived: KEYS[1] .. ':' .. priority)
-- KEYS[2]  P staged
-- KEYS[3]  P groups
-- KEYS[4]  P wc:<hex worker id>   the worker's last claim per group
-- KEYS[5]  P qp:<hex group>   the group's non-zero priorities with a queue
-- ARGV[1]  P
-- ARGV[2]  group
-- ARGV[3]  worker id
-- ARGV[4]  limit (>= 1)
-- ARGV[5]  claim token, unique per call; a call repeated with the same token
--          (its reply was lost: a forgotten claim) returns what the first call staged that is
--          still staged to the worker, instead of staging more
-- Each queue is read from its head, only as far as its due tasks go. Each
-- claimed task gets state staged, the worker, attempt + 1 and began = the
-- server's time. Returns one array per task: id, attempt, began, then the
-- TASK_FIELDS (keys.py).
local P, group, worker, limit, token = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local t = now()
local wake = {}

local function reply(id, attempt, began)
  local row = redis.call('HMGET', task_key(P, id), unpack(TASK_FIELDS))
  table.insert(row, 1, began)
  table.insert(row, 1, attempt)
  table.insert(row, 1, id)
  return row
end

local function replay(staged)
  local out = {}
  for _, item in ipairs(staged) do
    local id, attempt = item[1], item[2]
    local f = redis.call('HMGET', task_key(P, id),
      FIELD_STATE, FIELD_WORKER, FIELD_ATTEMPT, FIELD_BEGAN, FIELD_DUE, FIELD_PRIORITY)
    if f[1] == STATE_STAGED and f[2] == worker and tonumber(f[3]) == attempt then
      if #out < limit then
        out[#out + 1] = reply(id, attempt, f[4])
      else
        -- the repeated call asks for fewer: release the rest, attempt given back
        redis.call('ZREM', KEYS[2], id)
        redis.call('HINCRBY', task_key(P, id), FIELD_ATTEMPT, -1)
        enqueue(P, id, group, f[6], f[5], t, wake)
      end
    end
  end
  publish_wakeups(P, wake)
  return out
end

local last = redis.call('HGET', KEYS[4], group)
if last then
  local record = cmsgpack.unpack(last)
  if record[1] == token then
    return replay(record[2])
  end
end

-- The queues in claim order: positive priorities (highest first), 0, negatives.
local order, negatives = {}, {}
for _, priority in ipairs(redis.call('ZREVRANGE', KEYS[5], 0, -1)) do
  if tonumber(priority) > 0 then
    order[#order + 1] = priority
  else
    negatives[#negatives + 1] = priority
  end
end
order[#order + 1] = false
for _, priority in ipairs(negatives) do
  order[#order + 1] = priority
end

local out, staged, moved = {}, {}, false
local began = num(t)

-- Stage due tasks from one queue; true when some ids left it.
local function take(queue)
  local took = false
  while #out < limit do
    local ids = redis.call('ZRANGEBYSCORE', queue, '-inf', began, 'LIMIT', 0, limit - #out)
    if #ids == 0 then
      break
    end
    took = true
    for _, id in ipairs(ids) do
      redis.call('ZREM', queue, id)
      local key = task_key(P, id)
      if redis.call('HGET', key, FIELD_STATE) == STATE_QUEUED then
        local attempt = redis.call('HINCRBY', key, FIELD_ATTEMPT, 1)
        redis.call('HSET', key, FIELD_STATE, STATE_STAGED, FIELD_WORKER, worker, FIELD_BEGAN, began)
        redis.call('ZADD', KEYS[2], began, id)
        staged[#staged + 1] = {id, attempt}
        out[#out + 1] = reply(id, attempt, began)
      end -- else a member whose task is gone or no longer queued: dropped
    end
  end
  return took
end

for _, priority in ipairs(order) do
  if #out >= limit then
    break
  end
  local queue = priority and (KEYS[1] .. ':' .. priority) or KEYS[1]
  if take(queue) then
    moved = true
    if priority and redis.call('EXISTS', queue) == 0 then
      redis.call('ZREM', KEYS[5], priority)
    end
  end
end
if moved and redis.call('EXISTS', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[5]) == 0 then
  redis.call('SREM', KEYS[3], group)
end
if #out > 0 then
  redis.call('HSET', KEYS[4], group, cmsgpack.pack({token, staged}))
  redis.call('PEXPIRE', KEYS[4], 3600000)
end
return out
