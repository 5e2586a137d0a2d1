-- finished.lua: ids of finished tasks with finished-at in [min, max], oldest
-- first, at most `limit`; skips index entries whose task already expired.
-- KEYS[1]  P done
-- ARGV[1]  P
-- ARGV[2]  min (a score or -inf)
-- ARGV[3]  max (a score or +inf)
-- ARGV[4]  limit
local P, limit = ARGV[1], tonumber(ARGV[4])
local out, offset = {}, 0
while #out < limit do
  local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[2], ARGV[3], 'LIMIT', offset, limit)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    if #out < limit and redis.call('EXISTS', task_key(P, id)) == 1 then
      out[#out + 1] = id
    end
  end
  offset = offset + #ids
end
return out
