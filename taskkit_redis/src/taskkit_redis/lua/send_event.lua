-- send_event.lua: append one control event to the stream and renew its expiry.
-- KEYS[1]  P events
-- ARGV[1]  P
-- ARGV[2]  the entry's field name
-- ARGV[3]  the encoded event
-- ARGV[4]  about how many entries the stream keeps (MAXLEN ~)
-- ARGV[5]  the stream's expiry in milliseconds
-- A stream that does not exist (never made, or deleted by destroy_all, drop or
-- its expiry) starts one millisecond past the server's clock, above every id
-- a deleted stream gave out: a receiver's position from before lies below
-- the new entries even when both fall in the same millisecond.
-- Returns the entry's id.
local id = '*'
if redis.call('EXISTS', KEYS[1]) == 0 then
  local t = redis.call('TIME')
  id = string.format('%d-0', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + 1)
end
local added = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], id, ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return added
