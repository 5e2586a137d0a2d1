-- lock_acquire.lua: take a lock, or extend it when this token already holds it.
-- KEYS[1]  P lock:<hex name>
-- ARGV[1]  P
-- ARGV[2]  the holder's random token
-- ARGV[3]  lease in ms
-- Returns 1 when the token holds the lock now, 0 when another token does.
if redis.call('SET', KEYS[1], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
