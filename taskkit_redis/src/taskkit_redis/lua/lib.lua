-- lib.lua: helpers prepended to every script of this directory.
-- Keys, task fields, states and outcome kinds are written as layout names
-- (KEY_..., FIELD_..., STATE_..., OUTCOME_..., UNIQUE_...): taskkit_redis/lua_layout.py
-- replaces each with its value from keys.py or states.py when the scripts
-- are loaded. Static text: no script is ever built
-- from data. P is the namespace prefix "{N}:" (ARGV[1] of every script); the
-- key layout is documented in taskkit_redis/keys.py.

-- The server's clock, in float seconds since the epoch.
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- A float as text with 17 significant digits, which reads back exactly.
local function num(x)
  return string.format('%.17g', x)
end

-- The hex of a name's bytes, as names appear in keys (keys.encode_name);
-- remembered for the rest of the call, since a batch repeats its group.
local hex_of = {}
local function hex(s)
  local h = hex_of[s]
  if not h then
    h = string.gsub(s, '.', function(c) return string.format('%02x', string.byte(c)) end)
    hex_of[s] = h
  end
  return h
end

local function task_key(P, id)
  return P .. KEY_TASK .. id
end

-- The queue of one priority of a group; priority 0 (stored as no field: false
-- or '') keeps the key of taskkit 0.3.
local function queue_key(P, group, priority)
  local key = P .. KEY_QUEUE .. hex(group)
  if priority and priority ~= '' and priority ~= '0' then
    key = key .. ':' .. priority
  end
  return key
end

local function priorities_key(P, group)
  return P .. KEY_PRIORITIES .. hex(group)
end

local function unique_key(P, group, key)
  return P .. KEY_UNIQUE .. hex(group) .. ':' .. hex(key)
end

local function cancel_requests_key(P, worker)
  return P .. KEY_CANCEL_REQUESTS .. hex(worker)
end

-- The task fields a claim returns, in the order records.py decodes them.
local TASK_FIELDS = {FIELD_LIST}

-- The optional ones (written only when not the default), from the 9th on.
local OPTIONAL_FROM = 9

-- The longest expiry written, 100 years in ms: PEXPIRE refuses larger ones.
local MAX_EXPIRE_MS = 3153600000000

-- The finished states, each with its indexes (see keys.py).
local FINISHED = {STATE_SUCCEEDED, STATE_FAILED, STATE_CANCELLED}

local function is_finished(state)
  return state == STATE_SUCCEEDED or state == STATE_FAILED or state == STATE_CANCELLED
end

-- Add a task id to the queue of its group and priority, and note the group
-- in `wake` when it is due now. `known` (optional) holds the queues this call
-- already announced in P groups and P qp:<hex group>, so a batch does it once.
local function add_to_queue(P, id, group, priority, due, t, wake, known)
  local queue = queue_key(P, group, priority)
  redis.call('ZADD', queue, due, id)
  if not (known and known[queue]) then
    if priority and priority ~= '' and priority ~= '0' then
      redis.call('ZADD', priorities_key(P, group), priority, priority)
    end
    redis.call('SADD', P .. KEY_GROUPS, group)
    if known then
      known[queue] = true
    end
  end
  if tonumber(due) <= t then
    wake[group] = true
  end
end

-- After ids left the queue of `priority`: forget an emptied priority, and the
-- group in P groups when none of its queues is left.
local function queue_left(P, group, priority)
  local base = queue_key(P, group, false)
  local queue = queue_key(P, group, priority)
  local priorities = priorities_key(P, group)
  if queue ~= base and redis.call('EXISTS', queue) == 0 then
    redis.call('ZREM', priorities, priority)
  end
  if redis.call('EXISTS', base) == 0 and redis.call('EXISTS', priorities) == 0 then
    redis.call('SREM', P .. KEY_GROUPS, group)
  end
end

-- Queue a task whose hash exists (a retry, release, restore or retry_tasks).
local function enqueue(P, id, group, priority, due, t, wake)
  local key = task_key(P, id)
  redis.call('HSET', key, FIELD_STATE, STATE_QUEUED)
  redis.call('HDEL', key, FIELD_WORKER, FIELD_BEGAN)
  add_to_queue(P, id, group, priority, due, t, wake)
end

-- Whether the task holding a unique key still refuses duplicates at time t:
-- in a covered state (queued; staged too with states 'active') and within its
-- period from its created.
local function holder_counts(P, holder, t)
  local f = redis.call('HMGET', task_key(P, holder),
    FIELD_STATE, FIELD_CREATED, FIELD_UNIQUE_PERIOD, FIELD_UNIQUE_STATES)
  if f[1] ~= STATE_QUEUED and not (f[1] == STATE_STAGED and f[4] == UNIQUE_ACTIVE) then
    return false
  end
  return (not f[3]) or tonumber(f[2]) + tonumber(f[3]) > t
end

-- Take a unique key for task `id`, or return the id of the holder that refuses it.
local function take_unique(P, group, key, id, created, period, t)
  local ukey = unique_key(P, group, key)
  local holder = redis.call('GET', ukey)
  if holder and holder ~= id and holder_counts(P, holder, t) then
    return holder
  end
  redis.call('SET', ukey, id)
  if period ~= '' then
    local ends = (tonumber(created) + tonumber(period)) * 1000
    local ms = math.max(1, math.min(MAX_EXPIRE_MS, math.ceil(ends - t * 1000)))
    redis.call('PEXPIRE', ukey, string.format('%d', ms))
  end
  return false
end

-- Free a unique key if `id` still holds it.
local function release_unique(P, group, key, id)
  if key then
    local ukey = unique_key(P, group, key)
    if redis.call('GET', ukey) == id then
      redis.call('DEL', ukey)
    end
  end
end

-- The optional fields of a task from its options argument (the values of
-- TASK_FIELDS[OPTIONAL_FROM..] joined by SEPARATOR; '' when every one has its
-- default): a table by TASK_FIELDS position, '' for a default.
local NO_OPTIONS = {}
local function options(arg)
  if arg == '' then
    return NO_OPTIONS
  end
  local values, start = {}, 1
  for k = OPTIONAL_FROM, #TASK_FIELDS do
    local stop = string.find(arg, SEPARATOR, start, true) or (#arg + 1)
    values[k] = string.sub(arg, start, stop - 1)
    start = stop + 1
  end
  return values
end

-- Write a task's non-default optional fields (from options()) into its hash.
local function write_options(key, values)
  if values ~= NO_OPTIONS then
    local pairs_ = {}
    for k = OPTIONAL_FROM, #TASK_FIELDS do
      if values[k] ~= '' then
        pairs_[#pairs_ + 1] = TASK_FIELDS[k]
        pairs_[#pairs_ + 1] = values[k]
      end
    end
    if #pairs_ > 0 then
      redis.call('HSET', key, unpack(pairs_))
    end
  end
end

-- Queue new tasks given as `stride` ARGV entries each from ARGV[first] on: id,
-- the 8 required TASK_FIELDS in order, then (stride 10, the default) the
-- options argument (see options()); with stride 9 every task has none.
-- A task whose id exists is left as it is (answer 0); one refused by the
-- holder of its unique key is not written (answer: the holder's id); others
-- answer 1.
local function put_tasks(P, first, t, wake, stride)
  local answers, known = {}, {}
  stride = stride or 10
  for j = first, #ARGV, stride do
    local id, group, due = ARGV[j], ARGV[j + 1], ARGV[j + 4]
    local o = stride == 10 and options(ARGV[j + 9]) or NO_OPTIONS
    local priority, key = o[OPTIONAL_FROM], o[OPTIONAL_FROM + 3]
    local task = task_key(P, id)
    local answer = 1
    if redis.call('EXISTS', task) == 1 then
      answer = 0
    elseif key and key ~= '' then
      answer = take_unique(P, group, key, id, ARGV[j + 5], o[OPTIONAL_FROM + 4], t) or 1
    end
    if answer == 1 then
      redis.call('HSET', task, FIELD_GROUP, group, FIELD_NAME, ARGV[j + 2],
        FIELD_DATA, ARGV[j + 3], FIELD_DUE, due, FIELD_CREATED, ARGV[j + 5],
        FIELD_SCHEDULED, ARGV[j + 6], FIELD_RETRY_COUNT, ARGV[j + 7], FIELD_TTL, ARGV[j + 8],
        FIELD_STATE, STATE_QUEUED, FIELD_ATTEMPT, '0')
      write_options(task, o)
      add_to_queue(P, id, group, priority, due, t, wake, known)
    end
    answers[#answers + 1] = answer
  end
  return answers
end

-- Add a finished task to the indexes of its state (keys.py: P ix:...).
local function index_finished(P, id, state, group)
  local hexgroup = hex(group)
  redis.call('ZADD', P .. KEY_INDEX .. state, 0, id .. SEPARATOR .. hexgroup)
  redis.call('ZADD', P .. KEY_INDEX .. state .. ':' .. hexgroup, 0, id)
end

-- Remove a task's entries from the two indexes of one finished state.
local function drop_index_entries(P, id, state, hexgroup)
  redis.call('ZREM', P .. KEY_INDEX .. state, id .. SEPARATOR .. hexgroup)
  redis.call('ZREM', P .. KEY_INDEX .. state .. ':' .. hexgroup, id)
end

-- Remove a finished task from done, expiry and the indexes of its state.
local function unindex_finished(P, id, state, group)
  redis.call('ZREM', P .. KEY_DONE, id)
  redis.call('ZREM', P .. KEY_EXPIRY, id)
  drop_index_entries(P, id, state, hex(group))
end

-- Remove every index entry of a task whose hash is gone (it expired): the
-- member of P ix:<state> names its group, hence the per-group index.
local function unindex_gone(P, id)
  redis.call('ZREM', P .. KEY_DONE, id)
  redis.call('ZREM', P .. KEY_EXPIRY, id)
  local low, high = '[' .. id .. SEPARATOR, '(' .. id .. '\1'
  for _, state in ipairs(FINISHED) do
    local index = P .. KEY_INDEX .. state
    for _, member in ipairs(redis.call('ZRANGE', index, low, high, 'BYLEX', 'LIMIT', 0, 2)) do
      local hexgroup = string.sub(member, #id + 2)
      if not string.find(hexgroup, SEPARATOR, 1, true) then
        drop_index_entries(P, id, state, hexgroup)
      end
    end
  end
end

-- Take a task out of whatever lists its stored state puts it in (f: its
-- state, group, priority, worker, unique key, as read by the caller).
local function unlist(P, id, state, group, priority, worker, key)
  if state == STATE_QUEUED then
    redis.call('ZREM', queue_key(P, group, priority), id)
    queue_left(P, group, priority)
  elseif state == STATE_STAGED then
    redis.call('ZREM', P .. KEY_STAGED, id)
    if worker then
      redis.call('SREM', cancel_requests_key(P, worker), id)
    end
  elseif is_finished(state) then
    unindex_finished(P, id, state, group)
  end
  if state then
    release_unique(P, group, key, id)
  end
end

-- Mark a task finished in `state` (succeeded with its result; failed or
-- cancelled with its message), index it as done and disposable, free its
-- unique key, and let it expire after its ttl.
local function finish(P, id, group, state, payload, ttl, key, t)
  local task = task_key(P, id)
  if state == STATE_SUCCEEDED then
    -- an error kept from before retry_tasks stays, unread: read_task shows none
    -- for a task that succeeded
    redis.call('HSET', task, FIELD_STATE, state, FIELD_FINISHED, num(t), FIELD_RESULT, payload)
  else
    redis.call('HSET', task, FIELD_STATE, state, FIELD_FINISHED, num(t), FIELD_ERROR, payload)
  end
  redis.call('ZADD', P .. KEY_DONE, num(t), id)
  redis.call('ZADD', P .. KEY_EXPIRY, num(t + ttl), id)
  index_finished(P, id, state, group)
  release_unique(P, group, key, id)
  local ms = math.min(MAX_EXPIRE_MS, math.max(1, math.ceil(ttl * 1000)))
  redis.call('PEXPIRE', task, string.format('%d', ms))
end

-- End the cancel request of a staged task, if it has one (cr: its field).
local function end_cancel_request(P, id, worker, cr)
  if cr then
    redis.call('SREM', cancel_requests_key(P, worker), id)
    redis.call('HDEL', task_key(P, id), FIELD_CANCEL_REQUESTED)
  end
end

-- Wake idle workers of each group noted in `wake`.
local function publish_wakeups(P, wake)
  for group in pairs(wake) do
    redis.call('PUBLISH', P .. KEY_WAKE, group)
  end
end
