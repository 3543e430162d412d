-- Lifetime and limits: autokill, detached, tree kills, terminate, timeout,
-- resource limits, and procrun's own signals.
local T = require'testlib'
local proc = require'proc'
local q = T.sh_quote

local function alive(pid)
  local f = io.open('/proc/' .. pid .. '/stat')
  if not f then return false end
  local state = f:read('*l'):match('^%d+ %b() (%a)')
  f:close()
  return state ~= 'Z' and state ~= 'X'
end

-- Waits up to `seconds` for cond() to hold.
local function eventually(cond, seconds)
  local deadline = T.now() + (seconds or 5)
  while T.now() < deadline do
    if cond() then return true end
    proc.sleep(0.02)
  end
  return cond()
end

-- A procrun child running code; its stdout is a pipe.
local function child(code, opts)
  opts = opts or {}
  opts.cmd = {T.procrun, '-e', code}
  opts.stdout = opts.stdout == nil and true or opts.stdout
  opts.stderr = opts.stderr or 'null'  -- errors here are on purpose
  return assert(proc.exec(opts))
end

assert(proc.exec('true')):wait()
do  -- the loop's first stream reserves a descriptor for good
  local p = child('')
  p.stdout:read('a')
  p.stdout:close()
  p:wait()
end
T.watch_leaks()

-- Runs a procrun script that starts `sleep 30` with the given options and
-- prints its pid; returns the pid and the script's process.
local function parent_with_sleeper(opts, tail)
  local code = ([[
    local proc = require'proc'
    local p = assert(proc.exec{cmd = {'sleep', '30'}, %s})
    io.write(p.id, '\n') io.stdout:flush()
    %s]]):format(opts, tail or 'io.read()')
  local parent = child(code, {stdin = true})
  local pid = tonumber(parent.stdout:read('l'))
  assert(pid, 'the parent printed no pid')
  return pid, parent
end

T.test('autokill children die when procrun is killed with SIGKILL',
function()
  local pid, parent = parent_with_sleeper('autokill = true')
  assert(alive(pid))
  parent:kill('KILL')
  parent:wait()
  assert(eventually(function() return not alive(pid) end, 1),
    'the autokill child outlived its parent by a second')
  parent.stdin:close()
  parent.stdout:close()
end)

T.test('autokill children die on a normal end, an error, os.exit and TERM',
function()
  local endings = {
    'io.read()',                       -- ends when stdin closes
    'io.read() error("boom")',
    'io.read() os.exit(3)',
    'io.read() while true do end',     -- killed by TERM below
  }
  for i, tail in ipairs(endings) do
    local pid, parent = parent_with_sleeper('autokill = true', tail)
    if i == 4 then
      parent.stdin:write('\n')
      proc.sleep(0.1)
      parent:kill('TERM')
    else
      parent.stdin:close()
    end
    parent:wait()
    assert(eventually(function() return not alive(pid) end, 2),
      'ending ' .. i .. ' left the autokill child alive')
    parent.stdin:close()
    parent.stdout:close()
  end
end)

T.test('children without autokill keep running after procrun dies',
function()
  local pid, parent = parent_with_sleeper('')
  parent:kill('TERM')
  parent:wait()
  proc.sleep(0.2)
  assert(alive(pid), 'a plain child died with its parent')
  os.execute('kill ' .. pid)
  parent.stdin:close()
  parent.stdout:close()
end)

T.test('procrun killed during spawn leaves no autokill child behind',
function()
  -- The parent spawns children in a loop and is killed mid-way; every
  -- child it managed to start (and print) must be gone.
  local parent = child([[
    local proc = require'proc'
    io.stdout:setvbuf('no')
    for i = 1, 1000 do
      local p = proc.exec{cmd = {'sleep', '30'}, autokill = true}
      if p then io.write(p.id, '\n') p:forget() end
    end]])
  local pids = {}
  for _ = 1, 20 do pids[#pids + 1] = tonumber(parent.stdout:read('l')) end
  parent:kill('KILL')
  parent:wait()
  for l in parent.stdout:lines() do pids[#pids + 1] = tonumber(l) end
  parent.stdout:close()
  assert(eventually(function()
    for _, pid in ipairs(pids) do if alive(pid) then return false end end
    return true
  end, 2), 'an autokill child outlived its parent')
end)

T.test('a detached child has its own session and outlives procrun',
function()
  local pid, parent = parent_with_sleeper('detached = true')
  local f = io.open('/proc/' .. pid .. '/stat')
  local sid = f:read('*l'):match('^%d+ %b() %a %d+ %d+ (%d+)')
  f:close()
  assert(tonumber(sid) == pid, 'not a session leader: ' .. tostring(sid))
  parent:kill('KILL')
  parent:wait()
  proc.sleep(0.2)
  assert(alive(pid))
  os.execute('kill ' .. pid)
  parent.stdin:close()
  parent.stdout:close()
end)

T.test('autokill and detached exclude each other', function()
  T.check_error("options 'autokill' and 'detached' exclude each other",
    function() return proc.exec{cmd = 'true', autokill = true,
                                detached = true} end)
end)

-- A shell whose children print their pids: the tree to kill.
local function tree(extra)
  local p = assert(proc.exec{cmd = {'sh', '-c',
    'sleep 30 & echo $!; sh -c "sleep 30 & echo \\$!; wait" & wait'},
    stdout = true, detached = extra and extra.detached})
  local a, b = tonumber(p.stdout:read('l')), tonumber(p.stdout:read('l'))
  assert(a and b, 'the tree did not start')
  return p, {a, b}
end

T.test('kill with tree = true reaches every descendant', function()
  local p, kids = tree()
  assert(p:kill('KILL', {tree = true}))
  assert(select(3, p:wait()) == 9)
  assert(eventually(function()
    return not alive(kids[1]) and not alive(kids[2])
  end, 2), 'a descendant survived the tree kill')
  p.stdout:close()
end)

T.test('a plain kill leaves the descendants, a tree kill does not', function()
  local p, kids = tree()
  assert(p:kill('KILL'))
  p:wait()
  proc.sleep(0.1)
  assert(alive(kids[1]) and alive(kids[2]), 'plain kill reached the tree')
  os.execute('kill ' .. kids[1] .. ' ' .. kids[2])
  p.stdout:close()
end)

T.test('terminate sends TERM, then KILL after the grace', function()
  -- The child ignores TERM: terminate must fall back to KILL.
  local p = child([[
    local ffi = require'ffi'
    ffi.cdef'typedef void (*handler)(int); handler signal(int, handler);'
    ffi.C.signal(15, ffi.cast('handler', 1))  -- SIG_IGN
    print('ready') io.stdout:flush()
    while true do end]])
  assert(p.stdout:read('l') == 'ready')
  local t0 = T.now()
  local code, why, sig = p:terminate(0.3)
  assert(code == nil and why == 'killed' and sig == 9, tostring(why))
  assert(T.now() - t0 >= 0.25, 'KILL came before the grace ended')
  p.stdout:close()
  -- A child that exits on TERM is not kept waiting for the grace.
  p = assert(proc.exec('sleep', {'30'}))
  t0 = T.now()
  code, why, sig = p:terminate(20)
  assert(why == 'killed' and sig == 15, tostring(why))
  assert(T.now() - t0 < 10)
end)

T.test('terminate kills the grandchildren of a child that exits on TERM',
function()
  local p, kids = tree()
  p:terminate(1)
  assert(eventually(function()
    return not alive(kids[1]) and not alive(kids[2])
  end, 3), 'a grandchild survived terminate')
  p.stdout:close()
end)

T.test('a grandchild holding the pipe dies with the tree on timeout',
function()
  -- The shell waits for its child, which holds stdout open as well: the
  -- timeout's tree kill must end both, so communicate gets its end of
  -- stream long before its own timeout.
  local p = assert(proc.exec{cmd = {'sh', '-c', 'sleep 30 & echo $!; wait'},
                             stdout = true, timeout = 0.5})
  local t0 = T.now()
  local out, err = p:communicate(nil, {timeout = 20})
  assert(out, 'communicate: ' .. tostring(err))
  assert(T.now() - t0 < 10, 'communicate waited for the grandchild')
  assert(p.timed_out == true)
  local grandchild = assert(tonumber(out:match('^(%d+)\n$')), out)
  assert(eventually(function() return not alive(grandchild) end, 2),
    'the grandchild outlived the timeout')
  -- communicate's own timeout kills the tree the same way.
  p = assert(proc.exec{cmd = {'sh', '-c', 'sleep 30 & echo $!; wait'},
                       stdout = true})
  local none, why, partial = p:communicate(nil, {timeout = 0.5})
  assert(none == nil and why == 'timeout', tostring(why))
  grandchild = assert(tonumber(partial:match('^(%d+)\n$')), partial)
  assert(eventually(function() return not alive(grandchild) end, 2),
    'the grandchild outlived communicate\'s timeout')
end)

T.test('timeout terminates the tree and sets timed_out', function()
  local p = assert(proc.exec{cmd = {'sleep', '30'}, timeout = 0.2})
  assert(p.timed_out == false)
  local code, why, sig = p:wait()
  assert(code == nil and why == 'killed' and sig == 15, tostring(why))
  assert(p.timed_out == true)
  -- A child that ends in time is not marked.
  p = assert(proc.exec{cmd = {'true'}, timeout = 5})
  assert(p:wait() == 0 and p.timed_out == false)
  -- wait's own timeout still means: still running.
  p = assert(proc.exec{cmd = {'sleep', '30'}, timeout = 10})
  assert(select(2, p:wait(0.05)) == 'timeout' and not p.timed_out)
  p:kill()
  p:wait()
end)

T.test('timeout reports the exit code of a child that exits on TERM',
function()
  local p = assert(proc.exec{cmd = {'sh', '-c',
    'trap "exit 7" TERM; sleep 30 & wait'}, timeout = 0.3})
  assert(p:wait() == 7 and p.timed_out == true)
end)

T.test('timeout kills what the TERM left of the tree', function()
  -- The shell dies on TERM; its child ignores TERM and must get KILL as
  -- soon as the shell is gone, as terminate() does.
  local p = assert(proc.exec{cmd = {'sh', '-c',
    '(trap "" TERM; exec sleep 30) & echo $!; wait'},
    stdout = true, timeout = 0.3})
  local grandchild = assert(tonumber(p.stdout:read('l')))
  local _, why, sig = p:wait()
  assert(why == 'killed' and sig == 15, tostring(why))
  assert(eventually(function() return not alive(grandchild) end, 2),
    'a grandchild that ignores TERM outlived the timeout')
  p.stdout:close()
end)

T.test('timeout sends KILL after the grace to a child ignoring TERM',
function()
  local t0 = T.now()
  local p = assert(proc.exec{cmd = {'sh', '-c', 'trap "" TERM; exec sleep 30'},
                             timeout = 0.2})
  local code, why, sig = p:wait(20)
  assert(code == nil and why == 'killed' and sig == 9, tostring(why))
  assert(p.timed_out == true)
  assert(T.now() - t0 >= 4.5, 'KILL came before the 5 s grace')
end)

T.test('a tree kill reaches an orphan through the child\'s process group',
function()
  -- The subshell starts a sleep and exits: the sleep is reparented away
  -- from the child, out of reach of a walk down the tree, but stays in
  -- the process group that a detached child leads.
  local p = assert(proc.exec{cmd = {'sh', '-c',
    '(sleep 30 & echo $!); exec sleep 30'}, stdout = true, detached = true})
  local orphan = assert(tonumber(p.stdout:read('l')))
  assert(eventually(function()
    local f = io.open('/proc/' .. orphan .. '/stat')
    local ppid = f and f:read('*l'):match('^%d+ %b() %a (%d+)')
    if f then f:close() end
    return tonumber(ppid) ~= p.id
  end), 'the sleep was not reparented')
  assert(p:kill('KILL', {tree = true}))
  p:wait()
  assert(eventually(function() return not alive(orphan) end, 2),
    'the orphan in the group survived the tree kill')
  p.stdout:close()
end)

T.test('the child exiting while being killed is not an error', function()
  for _ = 1, 50 do
    local p = assert(proc.exec('true'))
    p:kill('KILL', {tree = true})  -- may race the exit: either is fine
    local code, why = p:wait()
    assert(code == 0 or why == 'killed')
  end
end)

T.test('500 children terminated at once all end', function()
  local ps = {}
  for i = 1, 500 do ps[i] = assert(proc.exec('sleep', {'30'})) end
  local threads = {}
  for i = 1, 500 do
    threads[i] = proc.thread(function() return ps[i]:terminate(5) end)
  end
  for i = 1, 500 do
    local code, why, sig = threads[i]:join()
    assert(why == 'killed' and sig == 15, tostring(why))
  end
end)

T.test('limits.cpu kills a busy child', function()
  local p = child('while true do end', {limits = {cpu = 1}})
  local code, why, sig = p:wait(10)
  assert(why == 'killed' and (sig == 24 or sig == 9), tostring(why))
  p.stdout:close()
end)

T.test('limits.mem makes large allocations fail', function()
  -- AddressSanitizer reserves terabytes of address space at start, so a
  -- sanitized procrun cannot run under an address-space limit at all:
  -- there the child is the system's luajit.
  local lua = T.procrun
  if select(1, T.sh('ldd ' .. q(T.procrun))):find('libasan', 1, true) then
    lua = 'luajit'
  end
  local p = assert(proc.exec{cmd = {lua, '-e', [[
    local ok = pcall(string.rep, 'x', 512 * 1024 * 1024)
    io.write(ok and 'allocated' or 'refused')]]}, stdout = true,
    limits = {mem = 256 * 1024 * 1024}})
  local out = p.stdout:read('a')
  p:wait()
  p.stdout:close()
  assert(out == 'refused', out)
end)

T.test('limits.nofile, nproc and core are set before the child runs',
function()
  local p = assert(proc.exec{cmd = {'cat', '/proc/self/limits'},
    stdout = true, limits = {nofile = 77, nproc = 4096, core = 0}})
  local text = p.stdout:read('a')
  p:wait()
  p.stdout:close()
  assert(text:match('Max open files%s+77%s+77'), text)
  assert(text:match('Max processes%s+4096%s+4096'), text)
  assert(text:match('Max core file size%s+0%s+0'), text)
end)

T.test('bad limits raise before anything starts', function()
  local function exec(t) local p = proc.exec(t) return p end
  T.check_error("unknown limit 'cpus'", exec,
    {cmd = 'true', limits = {cpus = 1}})
  T.check_error("limit 'mem': number >= 0 expected", exec,
    {cmd = 'true', limits = {mem = -1}})
  T.check_error("field 'timeout': number >= 0 expected", exec,
    {cmd = 'true', timeout = -2})
  T.check_error("field 'autokill': boolean expected, got string", exec,
    {cmd = 'true', autokill = 'yes'})
  T.check_error("unknown option 'trees'", function()
    local p = assert(proc.exec('true'))
    p:wait()
    return p:kill('KILL', {trees = true})
  end)
end)

T.test('through the launcher, exec errors stay precise', function()
  local p, msg, code = proc.exec{cmd = '/nonexistent/prog', autokill = true}
  assert(p == nil and code == 'ENOENT', tostring(msg))
  local dir = T.tmpdir()
  local f = T.write_file(dir .. '/noexec', 'garbage')
  os.execute('chmod -x ' .. q(f))
  p, msg, code = proc.exec{cmd = f, limits = {cpu = 5}}
  assert(p == nil and code == 'EACCES', tostring(msg))
  p, msg, code = proc.exec{cmd = 'true', limits = {nofile = 1e9}}
  assert(p == nil and (code == 'EPERM' or code == 'EINVAL'), tostring(msg))
  assert(msg:find("limit 'nofile'", 1, true), msg)
  p = assert(proc.exec{cmd = {'sh', '-c', 'exit 7'}, autokill = true})
  assert(p:wait() == 7)
end)

T.test('a launcher whose procrun died before autokill took hold dies',
function()
  -- The race of procrun dying between fork and exec, made certain: the
  -- launcher is told to die with a parent (pid 1) that is not its own,
  -- as if its procrun had died already; it must not run the target.
  local p = assert(proc.exec{cmd = {'sh', '-c', 'exec "$0" "$@" 3>&1',
    T.procrun, '\1procrun-launch', 'autokill=1', '--', '/bin/sleep',
    'sleep', '30'}, stdout = true})
  local code, why, sig = p:wait(10)
  assert(why == 'killed' and sig == 9, 'the target ran: ' .. tostring(why))
  p.stdout:close()
end)

T.test('SIGINT and SIGTERM end procrun; only autokill children die',
function()
  for _, sig in ipairs{'INT', 'TERM'} do
    local code = [[
      local proc = require'proc'
      local a = proc.exec{cmd = {'sleep', '30'}, autokill = true}
      local b = proc.exec{cmd = {'sleep', '30'}}
      io.write(a.id, ' ', b.id, '\n') io.stdout:flush()
      a:wait()]]
    local parent = child(code)
    local a, b = parent.stdout:read('l'):match('(%d+) (%d+)')
    parent:kill(sig)
    local exit, why, signum = parent:wait(5)
    if sig == 'INT' then
      assert(exit == 1, 'INT: ' .. tostring(why))
    else
      assert(why == 'killed' and signum == 15, 'TERM: ' .. tostring(why))
    end
    assert(eventually(function() return not alive(a) end, 2),
      sig .. ': the autokill child survived')
    assert(alive(b), sig .. ': the plain child died')
    os.execute('kill ' .. b)
    parent.stdout:close()
  end
end)

T.test('SIGTERM ends procrun cleanly and quietly, then by that signal',
function()
  -- Wherever the script is blocked, it ends as by an error: finalizers
  -- run, buffered output is written, nothing is printed, and the parent
  -- sees death by SIGTERM.
  local blocked = {
    'io.read()',
    'proc.exec("sleep", {"30"}):wait()',
    'proc.thread(function() proc.sleep(30) end):join()',
    'jit.off() while true do end',
  }
  for _, how in ipairs(blocked) do
    local p = child(([[
      local proc = require'proc'
      local x = newproxy(true)
      getmetatable(x).__gc = function() io.write(' finalized') end
      io.stderr:write('ready\n') io.stderr:flush()
      io.write('buffered')
      %s]]):format(how), {stdin = true, stderr = true})
    assert(p.stderr:read('l') == 'ready')
    proc.sleep(0.1)
    p:kill('TERM')
    local out, err = p.stdout:read('a'), p.stderr:read('a')
    local _, why, signum = p:wait(5)
    assert(why == 'killed' and signum == 15, how .. ': ' .. tostring(why))
    assert(out == 'buffered finalized', how .. ': stdout ' .. out)
    assert(err == '', how .. ': stderr ' .. err)
    p.stdin:close()
    p.stdout:close()
    p.stderr:close()
  end
  -- A loop compiled to a trace never meets the hook: after a short grace
  -- procrun dies of the SIGTERM all the same.
  local p = child([[
    io.stdout:setvbuf('no') print('ready') while true do end]])
  assert(p.stdout:read('l') == 'ready')
  proc.sleep(0.1)
  p:kill('TERM')
  local _, why, signum = p:wait(5)
  assert(why == 'killed' and signum == 15, 'busy loop: ' .. tostring(why))
  p.stdout:close()
end)

T.done()
