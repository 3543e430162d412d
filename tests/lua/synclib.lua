-- Helpers shared by the named-object tests (test_proc_sync*.lua): fresh
-- names of this run, procrun children, timing checks, and the clean-up
-- of what a run created.
local T = require'testlib'
local proc = require'proc'

local S = {}

local prefix = ('t%d_'):format(T.pid())
local used = {}  -- kind .. ' ' .. name, for the clean-up at the end
local count = 0

-- A fresh name of this run.
local function name(kind)
  count = count + 1
  local n = prefix .. count
  used[#used + 1] = {kind, n}
  return n
end

local function dir()
  return assert(require'proc.sync'.dir())
end

-- Runs code in a procrun child: the process object.
local function child(code, ...)
  local src = ("local proc = require'proc'\n" .. code):format(...)
  return assert(proc.exec{cmd = {T.procrun, '-e', src}})
end

local function exits_ok(p, what)
  local code, how, sig = p:wait(20)
  assert(code == 0, ('%s: child ended %s %s %s'):format(what or '',
    tostring(code), tostring(how), tostring(sig)))
end

local function elapsed(fn, ...)
  local t0 = T.now()
  local a, b, c = fn(...)
  return T.now() - t0, a, b, c
end

-- A wait that timed out must not end before its deadline (beyond the
-- clock's granularity). The upper bound only catches a hang: a loaded
-- machine can delay any single wake by much more than 10 ms.
local function check_timeout(t, want, what)
  assert(t >= want - 0.001, ('%s returned early: %.4f < %.3f')
    :format(what, t, want))
  assert(t < want + 0.5, ('%s hung: %.4f for %.3f'):format(what, t, want))
end

-- Timeouts are to be accurate to 10 ms. One late wake proves nothing on a
-- busy machine, so wait(secs) runs 20 times, timing out each time: none
-- may end early, and the median lateness must be under 10 ms.
local function check_accuracy(what, secs, wait)
  local late = {}
  for i = 1, 20 do
    local t, ok, err = elapsed(wait, secs)
    assert(ok == nil and err == 'timeout', what .. ': ' .. tostring(err))
    check_timeout(t, secs, what)
    late[i] = t - secs
  end
  table.sort(late)
  local median = (late[10] + late[11]) / 2
  assert(median < 0.01, ('%s(%g): median lateness %.4f s (%.4f to %.4f)')
    :format(what, secs, median, late[1], late[20]))
end

local function tasks()
  local n = 0
  local p = io.popen('ls /proc/' .. T.pid() .. '/task')
  for _ in p:lines() do n = n + 1 end
  p:close()
  return n
end

-- Only this run's objects: the directory is shared with test files that
-- run at the same time.
local function own_files()
  local mine = {}
  for f in T.sh('ls ' .. T.sh_quote(dir())):gmatch('[^\n]+') do
    if f:find(prefix, 1, true) then mine[#mine + 1] = f end
  end
  return table.concat(mine, ' ')
end

-- The last test of a file: removes every object the run named.
local function clean_up()
  T.test('objects left by this run are cleaned up', function()
    for _, u in ipairs(used) do proc.remove(u[1], u[2]) end
    local left = own_files()
    assert(left == '', 'left: ' .. left)
  end)
end

S.name, S.dir, S.child, S.exits_ok = name, dir, child, exits_ok
S.elapsed, S.check_timeout, S.check_accuracy = elapsed, check_timeout,
  check_accuracy
S.tasks, S.own_files, S.clean_up = tasks, own_files, clean_up
return S
