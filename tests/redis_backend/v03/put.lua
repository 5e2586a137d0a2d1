-- put.lua: queue tasks, all in one step; a task whose id exists is left as it is.
-- KEYS[1]  P groups (declared for cluster routing; task and queue keys are derived)
-- ARGV[1]  P
-- ARGV[2..] 9 per task: id, group, name, data, due, created, scheduled ("" for
--           none), retry_count, ttl
-- Publishes each group with a task due now on P wake.
-- Returns the number of tasks that were new.
local P = ARGV[1]
local wake = {}
local count = put_tasks(P, 2, now(), wake)
publish_wakeups(P, wake)
return count
