-- Waiting for, inspecting, signalling and forgetting processes.
local T = require'testlib'
local proc = require'proc'

-- The loop's first pipe reserves a descriptor for good (libuv keeps one
-- for running out of descriptors): open it before taking the baseline.
do
  local p = assert(proc.exec{cmd = 'true', stdout = true})
  p.stdout:read('a')
  p.stdout:close()
  p:wait()
end
T.watch_leaks()

local function sleeper(seconds)
  return assert(proc.exec('sleep', {tostring(seconds or 30)}))
end

T.test('a running child is active and exit_code does not block', function()
  local p = sleeper()
  local t0 = T.now()
  local code, state = p:exit_code()
  assert(code == nil and state == 'active', tostring(state))
  assert(p:status() == 'active')
  assert(T.now() - t0 < 1, 'exit_code blocked')
  assert(p:kill())
  p:wait()
end)

T.test('wait with a timeout returns timeout, then the exit code', function()
  local p = assert(proc.exec(T.procrun, {'-e', [[
    require'proc'.exec('sleep', {'0.3'}):wait()
    os.exit(5)]]}))
  local code, why = p:wait(0.05)
  assert(code == nil and why == 'timeout', tostring(why))
  assert(p:status() == 'active', 'the child must keep running')
  assert(p:wait(30) == 5)
  assert(p:status() == 'finished')
end)

T.test('wait with a zero timeout only looks', function()
  local p = sleeper()
  local code, why = p:wait(0)
  assert(code == nil and why == 'timeout')
  p:kill()
  assert(select(2, p:wait()) == 'killed')
end)

T.test('wait without timeout returns soon after the child exits', function()
  local p = sleeper(0.2)
  local t0 = T.now()
  assert(p:wait() == 0)
  local took = T.now() - t0
  assert(took >= 0.15 and took < 1, ('wait took %.3f s'):format(took))
end)

-- CPU seconds procrun spends in fn, and the seconds fn takes.
local function cost(fn)
  local cpu, t0 = os.clock(), T.now()
  fn()
  return os.clock() - cpu, T.now() - t0
end

local function check_idle(what, cpu, took)
  assert(took >= 0.45, ('%s returned after %.3f s'):format(what, took))
  assert(cpu < 0.1, ('%s used %.3f s of CPU in %.3f s')
    :format(what, cpu, took))
end

T.test('waiting never busy-waits: half a second costs little CPU',
function()
  local p = sleeper(0.5)
  check_idle('wait', cost(function() assert(p:wait() == 0) end))
  check_idle('proc.sleep', cost(function() proc.sleep(0.5) end))
  local r = assert(proc.exec{cmd = {'sh', '-c', 'sleep 0.5; echo x'},
                             stdout = true})
  check_idle('a pipe read',
    cost(function() assert(r.stdout:read('l') == 'x') end))
  assert(r:wait() == 0)
  r.stdout:close()
end)

T.test('Ctrl-C interrupts a wait with an error', function()
  local t0 = T.now()
  local _, err, code = T.run{'-e', [[
    local proc = require'proc'
    proc.shell('sleep 0.2; kill -INT $PPID'):forget()
    proc.exec('sleep', {'3'}):wait()
    print('not reached')]]}
  assert(code == 1, 'exit code ' .. tostring(code))
  assert(err:find('interrupted!', 1, true), err)
  assert(T.now() - t0 < 2.5, 'the wait was not interrupted')
end)

-- The values a call returns, with their count.
local function pack(...) return {n = select('#', ...), ...} end

local function same(a, b)
  if a.n ~= b.n then return false end
  for i = 1, a.n do if a[i] ~= b[i] then return false end end
  return true
end

local function show(t)
  local s = {}
  for i = 1, t.n do s[i] = tostring(t[i]) end
  return t.n .. ' values: ' .. table.concat(s, ', ')
end

T.test('wait returns what exit_code returns, as many values', function()
  local p = assert(proc.exec('true'))
  local w = pack(p:wait())
  assert(w.n == 1 and w[1] == 0, show(w))
  assert(same(w, pack(p:exit_code())), show(pack(p:exit_code())))
  p = sleeper()
  w = pack(p:wait(0.01))
  assert(w.n == 2 and w[1] == nil and w[2] == 'timeout', show(w))
  p:kill()
  w = pack(p:wait())
  assert(w.n == 3 and w[2] == 'killed' and w[3] == 9, show(w))
  assert(same(w, pack(p:exit_code())), show(pack(p:exit_code())))
  p = sleeper(0)
  p:forget()
  w = pack(p:wait())
  assert(w.n == 2 and w[1] == nil and w[2] == 'forgotten', show(w))
  assert(same(w, pack(p:exit_code())), show(pack(p:exit_code())))
end)

T.test('terminate returns what wait returns, as many values', function()
  local p = assert(proc.exec('true'))
  p:wait()
  local w = pack(p:terminate())
  assert(w.n == 1 and w[1] == 0, show(w))
  w = pack(sleeper():terminate())
  assert(w.n == 3 and w[2] == 'killed' and w[3] == 15, show(w))
end)

T.test('a bad timeout raises', function()
  local p = sleeper(0)
  T.check_error("bad argument #1 to 'wait' (timeout must be a number >= 0)",
    function() local r = p:wait(-1) return r end)
  T.check_error("bad argument #1 to 'wait' (number expected, got string)",
    function() local r = p:wait('x') return r end)
  p:wait()
end)

local function death(signal)
  local p = sleeper()
  assert(p:kill(signal))
  return select(2, p:wait())
end

T.test('kill with a name ends the child with that signal', function()
  for name, number in pairs{TERM = 15, INT = 2, KILL = 9, SEGV = 11,
                            SIGHUP = 1, USR1 = 10, USR2 = 12, QUIT = 3} do
    local p = sleeper()
    assert(p:kill(name))
    local code, how, signal = p:wait()
    assert(code == nil and how == 'killed' and signal == number,
      ('%s: %s %s'):format(name, tostring(how), tostring(signal)))
    assert(p:status() == 'killed')
    local c, h, s = p:exit_code()
    assert(c == nil and h == 'killed' and s == number)
  end
end)

T.test('kill defaults to SIGKILL and takes numbers', function()
  local p = sleeper()
  assert(p:kill())
  assert(select(3, p:wait()) == 9)
  p = sleeper()
  assert(p:kill(15))
  assert(select(3, p:wait()) == 15)
end)

T.test('a child that kills itself with SEGV is reported killed', function()
  local p = assert(proc.shell('kill -SEGV $$'))
  local code, how, signal = p:wait()
  assert(code == nil and how == 'killed' and signal == 11, tostring(how))
end)

T.test('STOP and CONT pause and resume the child', function()
  local p = sleeper(0.2)
  assert(p:kill('STOP'))
  assert(select(2, p:wait(0.5)) == 'timeout', 'a stopped child ran on')
  assert(p:kill('CONT'))
  assert(p:wait(30) == 0)
end)

T.test('an unknown signal name raises', function()
  local p = sleeper()
  T.check_error("bad argument #1 to 'kill' (unknown signal 'FOO')",
    function() local r = p:kill('FOO') return r end)
  T.check_error("bad argument #1 to 'kill' (bad signal number)",
    function() local r = p:kill(-1) return r end)
  p:kill()
  p:wait()
end)

T.test('kill after the child was reaped returns ESRCH', function()
  local p = assert(proc.exec('true'))
  assert(p:wait() == 0)
  local ok, msg, code = p:kill('TERM')
  assert(ok == nil and code == 'ESRCH', tostring(msg))
  assert(msg == ('kill %d: ESRCH: no such process'):format(p.id), msg)
end)

T.test('p.id is the pid of the child', function()
  local out = T.tmpname('.pid')
  local p = assert(proc.shell('echo $$ > ' .. T.sh_quote(out)))
  assert(p:wait() == 0)
  local f = assert(io.open(out))
  local pid = tonumber(f:read('*l'))
  f:close()
  assert(pid == p.id, ('%s ~= %s'):format(tostring(pid), tostring(p.id)))
end)

-- A child that creates the file arg[1] after a short sleep.
local function late_writer(path)
  return assert(proc.shell('sleep 0.2; touch ' .. T.sh_quote(path)))
end

local function wait_for_file(path)
  local deadline = T.now() + 10
  repeat
    local f = io.open(path)
    if f then return f:close() end
    assert(proc.exec('sleep', {'0.05'})):wait()
  until T.now() > deadline
  error('the child did not finish: ' .. path)
end

T.test('forget releases the object and the child runs on', function()
  local out = T.tmpname('.late')
  local p = late_writer(out)
  local id = p.id
  p:forget()
  assert(p:status() == 'forgotten')
  local c, why = p:exit_code()
  assert(c == nil and why == 'forgotten')
  c, why = p:wait()
  assert(c == nil and why == 'forgotten')
  assert(p.id == id)
  T.check_error('process ' .. id .. ' was forgotten',
    function() local r = p:kill() return r end)
  p:forget()  -- twice is fine
  wait_for_file(out)
  T.settle()
  assert(#T.children() == 0, 'the forgotten child was not reaped')
end)

T.test('forget after the child exited frees it at once', function()
  local p = assert(proc.exec('true'))
  p:wait()
  p:forget()
  assert(p:status() == 'forgotten')
end)

T.test('a collected process object behaves as forget', function()
  local out = T.tmpname('.late')
  late_writer(out)
  collectgarbage()
  collectgarbage()
  wait_for_file(out)
  T.settle()
  assert(#T.children() == 0, 'the collected child was not reaped')
end)

T.done()
