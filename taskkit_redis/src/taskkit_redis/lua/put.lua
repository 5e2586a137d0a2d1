-- put.lua: queue tasks, all in one step; a task whose id exists is left as it
-- is, and one whose unique key is held by a task that still counts is not written.
-- KEYS[1]  P groups (declared for cluster routing; task, queue and unique keys are derived)
-- ARGV[1]  P
-- ARGV[2]  the arguments per task: 10, or 9 when no task has options (the
--          usual put: one argument a task fewer to send and read)
-- ARGV[3..] per task: id, group, name, data, due, created, scheduled ("" for
--           none), retry_count, ttl, then (with 10) the options: the optional
--           TASK_FIELDS (priority, timeout, headers, unique key, unique period,
--           unique states; keys.py) joined by NUL, or "" when each has its default
-- Publishes each group with a task due now on P wake.
-- Returns the number of tasks when every task was written (the usual put: one
-- number to send and parse, not one per task), else one answer per task: 1
-- written, 0 its id existed, or the id of the holder of its unique key.
local P = ARGV[1]
local wake = {}
local answers = put_tasks(P, 3, now(), wake, tonumber(ARGV[2]))
publish_wakeups(P, wake)
for _, answer in ipairs(answers) do
  if answer ~= 1 then
    return answers
  end
end
return #answers
