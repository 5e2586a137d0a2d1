-- lib.lua: helpers prepended to every script of this directory.
-- Static text: no script is ever built from data. P is the namespace prefix
-- "{N}:" (ARGV[1] of every script); the key layout is documented in
-- taskkit_redis/keys.py.

-- The server's clock, in float seconds since the epoch.
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- A float as text with 17 significant digits, which reads back exactly.
local function num(x)
  return string.format('%.17g', x)
end

-- The hex of a name's bytes, as names appear in keys (keys.encode_name).
local function hex(s)
  return (string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end))
end

local function task_key(P, id)
  return P .. 't:' .. id
end

local function queue_key(P, group)
  return P .. 'q:' .. hex(group)
end

-- The task fields a claim or a lookup returns, in the order records.py decodes them.
local TASK_FIELDS = {'g', 'n', 'd', 'due', 'c', 's', 'r', 'ttl'}

-- The longest expiry written, 100 years in ms: PEXPIRE refuses larger ones.
local MAX_EXPIRE_MS = 3153600000000

-- Queue a task whose hash exists (a retry, release or restore); note its group
-- in `wake` when it is due now.
local function enqueue(P, id, group, due, t, wake)
  local key = task_key(P, id)
  redis.call('HSET', key, 'st', 'queued')
  redis.call('HDEL', key, 'w', 'b')
  redis.call('ZADD', queue_key(P, group), due, id)
  redis.call('SADD', P .. 'groups', group)
  if tonumber(due) <= t then
    wake[group] = true
  end
end

-- Queue new tasks given as 9 ARGV entries each from ARGV[first] on: id, group,
-- name, data, due, created, scheduled, retry_count, ttl. A task whose id
-- exists is left as it is. Returns how many were new.
local function put_tasks(P, first, t, wake)
  local queues, count = {}, 0
  for j = first, #ARGV, 9 do
    local id, group, due = ARGV[j], ARGV[j + 1], ARGV[j + 4]
    local key = task_key(P, id)
    if redis.call('EXISTS', key) == 0 then
      redis.call('HSET', key, 'g', group, 'n', ARGV[j + 2], 'd', ARGV[j + 3], 'due', due,
        'c', ARGV[j + 5], 's', ARGV[j + 6], 'r', ARGV[j + 7], 'ttl', ARGV[j + 8],
        'st', 'queued', 'a', '0')
      local queue = queues[group]
      if not queue then
        queue = queue_key(P, group)
        queues[group] = queue
        redis.call('SADD', P .. 'groups', group)
      end
      redis.call('ZADD', queue, due, id)
      if tonumber(due) <= t then
        wake[group] = true
      end
      count = count + 1
    end
  end
  return count
end

-- Mark a task finished (kind 'succeeded' with its result, or 'failed' with its
-- message), index it as done and disposable, and let it expire after its ttl.
local function finish(P, done_key, expiry_key, id, kind, payload, ttl, t)
  local key = task_key(P, id)
  local field = 'err'
  if kind == 'succeeded' then
    field = 'res'
  end
  redis.call('HSET', key, 'st', kind, 'f', num(t), field, payload)
  redis.call('ZADD', done_key, num(t), id)
  redis.call('ZADD', expiry_key, num(t + ttl), id)
  local ms = math.min(MAX_EXPIRE_MS, math.max(1, math.ceil(ttl * 1000)))
  redis.call('PEXPIRE', key, string.format('%d', ms))
end

-- Wake idle workers of each group noted in `wake`.
local function publish_wakeups(P, wake)
  for group in pairs(wake) do
    redis.call('PUBLISH', P .. 'wake', group)
  end
end

