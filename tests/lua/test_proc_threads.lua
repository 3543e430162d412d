-- proc.thread and proc.sleep: coroutines driven by the event loop.
local T = require'testlib'
local sched = require'proc.sched'
local q = T.sh_quote

local function now()
  local f = io.open('/proc/uptime')
  local s = f:read('*n')
  f:close()
  return s
end

T.test('threads interleave at their waits and join returns results',
function()
  local order = {}
  local a = sched.thread(function(x)
    order[#order + 1] = 'a1'
    sched.sleep(0.05)
    order[#order + 1] = 'a2'
    return x * 2, 'two'
  end, 21)
  local b = sched.thread(function()
    order[#order + 1] = 'b1'
    sched.sleep(0.01)
    order[#order + 1] = 'b2'
  end)
  local r1, r2 = a:join()
  assert(r1 == 42 and r2 == 'two', tostring(r1))
  assert(b:join() == nil)
  assert(table.concat(order, ' ') == 'a1 b1 b2 a2', table.concat(order, ' '))
end)

T.test('a thread starts at once and runs until it first waits', function()
  local ran = false
  local t = sched.thread(function() ran = true sched.sleep(0) end)
  assert(ran)
  t:join()
end)

T.test('sleep in the main chunk lets threads progress', function()
  local ticks = 0
  local t = sched.thread(function()
    for _ = 1, 3 do sched.sleep(0.01) ticks = ticks + 1 end
  end)
  sched.sleep(0.2)
  assert(ticks == 3, ticks)
  t:join()
end)

T.test('sleep waits at least as long as asked', function()
  local t0 = now()
  sched.sleep(0.1)
  assert(now() - t0 >= 0.09, now() - t0)
end)

T.test('many threads sleeping at once finish together', function()
  local done = 0
  local ts = {}
  local t0 = now()
  for i = 1, 200 do
    ts[i] = sched.thread(function() sched.sleep(0.1) done = done + 1 end)
  end
  for i = 1, 200 do ts[i]:join() end
  assert(done == 200)
  -- 200 sequential sleeps would take 20 s.
  assert(now() - t0 < 5, now() - t0)
end)

T.test('a plain coroutine.yield in a thread lets others run first',
function()
  local order = {}
  local a = sched.thread(function()
    order[#order + 1] = 'a1'
    coroutine.yield()
    order[#order + 1] = 'a2'
  end)
  local b = sched.thread(function() order[#order + 1] = 'b' end)
  a:join()
  b:join()
  assert(table.concat(order, ' ') == 'a1 b a2', table.concat(order, ' '))
end)

T.test('thread rejects a non-function', function()
  T.check_error("bad argument #1 to 'thread' (function expected, got nil)",
    sched.thread, nil)
end)

T.test('procrun runs threads to the end after the main chunk', function()
  local out, err, code = T.run{'-e', [[
    local sched = require'proc.sched'
    sched.thread(function() sched.sleep(0.05) print('thread end') end)
    print('main end')]]}
  assert(code == 0, err)
  assert(out == 'main end\nthread end\n', out)
end)

T.test('an error in a thread is reported like one in the main chunk',
function()
  local out, err, code = T.run{'-e', [[
    local sched = require'proc.sched'
    sched.thread(function() sched.sleep(0.01) error('boom') end)
    print('main end')]]}
  assert(code == 1, code)
  assert(out == 'main end\n', out)
  assert(err:match('^procrun: %(command line%):2: boom\nstack traceback:\n'),
    err)
end)

T.test('an error object that is not a string is reported as in the main '
  .. 'chunk', function()
  local _, main_err, main_code = T.run{'-e', 'error({})'}
  assert(main_code == 1, main_code)
  assert(main_err == 'procrun: (error object is not a string)\n', main_err)
  local out, err, code = T.run{'-e', [[
    local sched = require'proc.sched'
    sched.thread(function() sched.sleep(0.01) error({}) end)
    print('main end')]]}
  assert(code == 1 and out == 'main end\n', code)
  assert(err == main_err, err)
  -- One with __tostring is shown through it, traceback and all.
  _, err, code = T.run{'-e', [[
    local sched = require'proc.sched'
    sched.thread(function()
      error(setmetatable({}, {__tostring = function() return 'shown' end}))
    end)]]}
  assert(code == 1, code)
  assert(err:match('^procrun: shown\nstack traceback:\n'), err)
end)

T.test('children nobody waits on do not keep procrun alive', function()
  local t0 = now()
  local out, err, code = T.run{'-e', [[
    local proc = require'proc'
    local p = proc.exec('sleep', {'3'})
    proc.thread(function() proc.sleep(0.05) end)
    io.write(p.id)]]}
  assert(code == 0, err)
  assert(now() - t0 < 2.5, 'procrun waited for the child')
  os.execute('kill ' .. out)
end)

-- A thread that counts ticks of 10 ms until stopped; returns the count
-- and a function that stops it and joins it.
local function start_ticker()
  local n, stop = 0, false
  local t = sched.thread(function()
    while not stop do
      sched.sleep(0.01)
      n = n + 1
    end
  end)
  return function() return n end, function() stop = true t:join() end
end

T.test('a wait in a thread yields: other threads keep running', function()
  local proc = require'proc'
  local ticks, stop = start_ticker()
  local waiter = sched.thread(function()
    local p = assert(proc.exec('sleep', {'0.3'}))
    return p:wait()
  end)
  assert(waiter:join() == 0)
  assert(ticks() >= 5, ticks())
  stop()
end)

T.test('communicate in a thread yields: other threads keep running',
function()
  local proc = require'proc'
  local done = false
  local ticks, stop = start_ticker()
  local input = ('c'):rep(1024 * 1024)
  local worker = sched.thread(function()
    local p = assert(proc.exec{cmd = {'sh', '-c', 'sleep 0.3; cat'},
                               stdin = true, stdout = true})
    local out = p:communicate(input)
    done = true
    return out
  end)
  -- thread() returns at the worker's first wait, not at its end.
  assert(not done, 'communicate blocked the thread that started it')
  local out = worker:join()
  -- The ticker ran during the 0.3 s of communicate.
  assert(ticks() >= 5, ticks())
  stop()
  assert(out == input, tostring(out and #out))
end)

T.test('a wait that nothing can end raises instead of hanging', function()
  local _, err, code = T.run{'-e', [[
    local sched = require'proc.sched'
    sched.wait({})]]}
  assert(code == 1 and err:find('deadlock', 1, true), err)
end)

T.done()
