-- claim.lua: stage up to `limit` due tasks of one group to a worker, oldest due
-- first (ties by id), in one step.
-- KEYS[1]  P q:<hex group>   the group's queue
-- KEYS[2]  P staged
-- KEYS[3]  P groups
-- KEYS[4]  P wc:<hex worker id>   the worker's last claim per group
-- ARGV[1]  P
-- ARGV[2]  group
-- ARGV[3]  worker id
-- ARGV[4]  limit (>= 1)
-- ARGV[5]  claim token, unique per call; a call repeated with the same token
--          (its answer was lost) returns what the first call staged that is
--          still staged to the worker, instead of staging more
-- Each claimed task gets state staged, the worker, attempt + 1 and began =
-- the server's time. Returns one array per task: id, attempt, began, then the
-- TASK_FIELDS of lib.lua.
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
    local f = redis.call('HMGET', task_key(P, id), 'st', 'w', 'a', 'b', 'due')
    if f[1] == 'staged' and f[2] == worker and tonumber(f[3]) == attempt then
      if #out < limit then
        out[#out + 1] = reply(id, attempt, f[4])
      else
        -- the repeated call asks for fewer: release the rest, attempt given back
        redis.call('ZREM', KEYS[2], id)
        redis.call('HINCRBY', task_key(P, id), 'a', -1)
        enqueue(P, id, group, f[5], t, wake)
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

local out, staged, dropped = {}, {}, false
local began = num(t)
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', began, 'LIMIT', 0, limit - #out)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    redis.call('ZREM', KEYS[1], id)
    local key = task_key(P, id)
    if redis.call('HGET', key, 'st') == 'queued' then
      local attempt = redis.call('HINCRBY', key, 'a', 1)
      redis.call('HSET', key, 'st', 'staged', 'w', worker, 'b', began)
      redis.call('ZADD', KEYS[2], began, id)
      staged[#staged + 1] = {id, attempt}
      out[#out + 1] = reply(id, attempt, began)
    else
      dropped = true -- a member whose task is gone or no longer queued
    end
  end
end
if (#out > 0 or dropped) and redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], group)
end
if #out > 0 then
  redis.call('HSET', KEYS[4], group, cmsgpack.pack({token, staged}))
  redis.call('PEXPIRE', KEYS[4], 3600000)
end
return out
