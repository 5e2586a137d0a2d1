-- lock_release.lua: free a lock only if this token holds it (compare-and-delete).
-- KEYS[1]  P lock:<hex name>
-- ARGV[1]  P
-- ARGV[2]  the holder's token
-- Returns 1 when it was freed, 0 when the token did not hold it.
if redis.call('GET', KEYS[1]) == ARGV[2] then
  return redis.call('DEL', KEYS[1])
end
return 0
