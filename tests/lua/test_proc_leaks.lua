-- Many processes leave nothing behind: no fds, no zombies, no handles.
local T = require'testlib'
local proc = require'proc'

assert(proc.exec('true')):wait()
T.watch_leaks()

local function check_clean(fds)
  T.settle()
  assert(#T.children() == 0, #T.children() .. ' children left')
  local now = table.concat(T.open_fds(), ' ')
  assert(now == fds, ('fds were {%s}, now {%s}'):format(fds, now))
end

T.test('1000 spawn and forget cycles leave no fd and no zombie', function()
  local fds = table.concat(T.open_fds(), ' ')
  for _ = 1, 1000 do
    local p = assert(proc.exec('true'))
    p:forget()
  end
  check_clean(fds)
end)

T.test('300 processes dropped to the GC are reaped too', function()
  local fds = table.concat(T.open_fds(), ' ')
  for i = 1, 300 do
    assert(proc.exec('true'))
    if i % 50 == 0 then collectgarbage() end
  end
  collectgarbage()
  check_clean(fds)
end)

T.test('300 failed spawns leave no fd behind', function()
  local fds = table.concat(T.open_fds(), ' ')
  for _ = 1, 100 do
    assert(not proc.exec('/no/such/program'))
    assert(not proc.exec('procrun-no-such-program'))
    assert(not proc.exec('ls', nil, nil, '/nope'))
  end
  check_clean(fds)
end)

T.test('waited processes leave no fd behind', function()
  local fds = table.concat(T.open_fds(), ' ')
  for _ = 1, 200 do
    local p = assert(proc.exec('true'))
    assert(p:wait() == 0)
  end
  collectgarbage()
  check_clean(fds)
end)

T.test('a running child forgotten at exit does not keep procrun', function()
  local t0 = T.now()
  local out, err, code = T.run{'-e', [[
    local proc = require'proc'
    proc.exec('sleep', {'3'}):forget()
    local p = proc.exec('sleep', {'3'})]]}
  assert(code == 0, err)
  assert(T.now() - t0 < 2.5, 'procrun waited for its children')
end)

T.done()
