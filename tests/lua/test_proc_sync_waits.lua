-- Named objects (proc.mutex, proc.semaphore, proc.event, proc.remove):
-- timeouts, waits in threads, Ctrl-C, names, files and permissions.
local T = require'testlib'
local proc = require'proc'
local sched = require'proc.sched'
local S = require'synclib'
local name, dir, child, exits_ok = S.name, S.dir, S.child, S.exits_ok
local elapsed, check_timeout, check_accuracy = S.elapsed, S.check_timeout,
  S.check_accuracy
local tasks = S.tasks

-- Timeouts and threads ----------------------------------------------------

T.test('timeouts end waits on time', function()
  local s = assert(proc.semaphore(name('semaphore')))
  local e = assert(proc.event(name('event')))
  local n = name('mutex')
  local held, m = assert(proc.mutex(n)), assert(proc.mutex(n))
  assert(held:lock())
  check_accuracy('semaphore wait', 0.02, function(t) return s:wait(t) end)
  check_accuracy('event wait', 0.02, function(t) return e:wait(t) end)
  check_accuracy('mutex lock', 0.02, function(t) return m:lock(t) end)
  check_accuracy('semaphore wait', 0, function(t) return s:wait(t) end)
  for _, secs in ipairs{0.1, 0.25} do
    local t, ok, err = elapsed(s.wait, s, secs)
    assert(ok == nil and err == 'timeout')
    check_timeout(t, secs, 'semaphore wait')
    t, ok, err = elapsed(e.wait, e, secs)
    assert(ok == nil and err == 'timeout')
    check_timeout(t, secs, 'event wait')
  end
  held:unlock()
  for _, o in ipairs{s, e, held, m} do o:close() end
end)

T.test('short timeouts end on time while a wait keeps the loop alive',
function()
  -- A timer due before the loop polls must still end the poll (a
  -- pending wait keeps the loop alive, so the poll would block until
  -- the other wait's 60 s are up). The waits take about 1 s.
  local s = assert(proc.semaphore(name('semaphore')))
  local other = assert(proc.semaphore(name('semaphore')))
  local blocked = sched.thread(function() return other:wait(60) end)
  local t = elapsed(function()
    for _ = 1, 1000 do assert(not s:wait(0.001)) end
  end)
  assert(t < 20, ('1000 waits of 1 ms took %.2f s'):format(t))
  other:post()
  assert(blocked:join() == true)
  s:close()
  other:close()
end)

T.test('a wait in a thread does not stall a thread that keeps ticking',
function()
  -- The waiter times out once, then waits for a post that the ticker
  -- makes only after 20 more ticks. Threads run at once until they wait,
  -- so the waiter waits before the ticker starts: a wait that blocked the
  -- process would see no tick, or end by its 30 s timeout (the time bound
  -- is there for that, not for speed).
  local s = assert(proc.semaphore(name('semaphore')))
  local ticks, timed_out = 0, nil
  local t0 = T.now()
  local waiter = sched.thread(function()
    local ok, err = s:wait(0.05)
    timed_out = ticks
    if ok ~= nil or err ~= 'timeout' then return 'not timed out' end
    ok = s:wait(30)
    return ok, ticks
  end)
  local ticker = sched.thread(function()
    while not timed_out do
      sched.sleep(0.01)
      ticks = ticks + 1
    end
    for _ = 1, 20 do
      sched.sleep(0.01)
      ticks = ticks + 1
    end
    s:post()
  end)
  local ok, seen = waiter:join()
  ticker:join()
  local t = T.now() - t0
  assert(timed_out and timed_out > 0, 'no tick during the timed wait')
  assert(ok == true, 'the wait ended without the post: ' .. tostring(ok))
  assert(seen >= timed_out + 20, ('%d of 20 ticks during the wait')
    :format(seen - timed_out))
  assert(t < 10, ('the ticks took %.1f s, not about 0.3'):format(t))
  s:close()
end)

T.test('Ctrl-C interrupts a blocked wait', function()
  local n = name('mutex')
  local m = assert(proc.mutex(n))
  assert(m:lock())
  local t0 = T.now()
  local _, err, code = T.run{'-e', ([[
    local proc = require'proc'
    local m = assert(proc.mutex(%q))
    proc.shell('sleep 0.2; kill -INT $PPID'):forget()
    m:lock()
    print('not reached')]]):format(n)}
  assert(code == 1, 'exit code ' .. tostring(code))
  assert(err:find('interrupted!', 1, true), err)
  assert(T.now() - t0 < 3, 'the wait was not interrupted')
  m:unlock()
  m:close()
end)

-- After one Ctrl-C the host lets the next one kill (as luajit does), so
-- each interrupt gets a process of its own.
T.test('an interrupted wait leaves no worker thread behind', function()
  local held = assert(proc.mutex(name('mutex')))
  local s = assert(proc.semaphore(name('semaphore')))
  for _, call in ipairs{'s:wait()', 'm:lock()'} do
    assert(held:lock())
    local file = T.tmpname('.out')
    local interrupted = assert(proc.event(name('event'), {manual = true}))
    local p = child([[
      local function tasks()
        local n = 0
        for _ in io.popen('ls /proc/$PPID/task'):lines() do n = n + 1 end
        return n
      end
      local s, m = proc.semaphore(%q), proc.mutex(%q)
      local before = tasks()
      proc.shell('sleep 0.1; kill -INT $PPID'):forget()
      local ok, err = pcall(function() return %s end)
      local left = tasks() - before
      assert(proc.event(%q, {manual = true})):set()
      local f = io.open(%q, 'w')
      f:write(tostring(ok), ' ', err:match('interrupted!') or err, ' ',
        left, ' ', tostring(m:lock(20)))
      f:close()]], s.name, held.name, call, interrupted.name, file)
    assert(interrupted:wait(20), call .. ': the child did not get there')
    held:unlock()
    interrupted:close()
    exits_ok(p, call)
    local f = assert(io.open(file))
    local out = f:read('*a')
    f:close()
    assert(out == 'false interrupted! 0 true', call .. ': ' .. out)
  end
  held:close()
  s:close()
end)

T.test('closing a handle ends the waits on it with an error', function()
  local s = assert(proc.semaphore(name('semaphore')))
  local err
  local t = sched.thread(function()
    err = select(2, pcall(s.wait, s, 10))
  end)
  sched.sleep(0.05)
  s:close()
  t:join()
  assert(tostring(err):find('was closed while waiting', 1, true),
    tostring(err))
  T.check_error("semaphore '" .. s.name .. "' is closed", s.wait, s)
end)

-- Names, files, permissions ---------------------------------------------

T.test('objects are files of mode 0600 in a directory of mode 0700',
function()
  local d = dir()
  assert(d == '/dev/shm/procrun-' .. T.sh('id -u'):match('%d+'), d)
  local n = name('mutex')
  local m = assert(proc.mutex(n))
  local out = T.sh('stat -c "%a %u %F" ' .. T.sh_quote(d) .. ' ' ..
    T.sh_quote(d .. '/mutex.' .. n))
  local uid = T.sh('id -u'):match('%d+')
  local want = ('700 %s directory\n600 %s regular file\n'):format(uid, uid)
  assert(out == want, out)
  m:close()
  local gone = T.sh('ls ' .. T.sh_quote(d))
  assert(not gone:find(n, 1, true), 'the last close left the file')
end)

T.test('a umask does not change the modes', function()
  local n = name('event')
  local out, err, code = T.sh(('umask 077; %s -e %s; umask 0; %s -e %s')
    :format(T.sh_quote(T.procrun), T.sh_quote(
      ("local e = require'proc'.event(%q) os.execute('stat -c %%a " ..
       "%s/event.%s') e:close()"):format(n, dir(), n)),
    T.sh_quote(T.procrun), T.sh_quote(
      ("local e = require'proc'.event(%q) os.execute('stat -c %%a " ..
       "%s/event.%s') e:close()"):format(n, dir(), n))))
  assert(code == 0, err)
  assert(out == '600\n600\n', out)
end)

local function run_in_dir(d, code)
  return T.sh(('PROCRUN_SYNC_DIR=%s %s -e %s'):format(T.sh_quote(d),
    T.sh_quote(T.procrun), T.sh_quote("local proc = require'proc'\n" ..
    code)))
end

local root = T.sh('id -u'):match('%d+') == '0'

T.test("another user's object or directory is refused with EACCES",
function()
  local d = T.tmpname('.objects')
  os.execute('mkdir -m 700 ' .. T.sh_quote(d))
  local out, err = run_in_dir(d, [[
    local m = assert(proc.mutex('x'))
    print(m:lock())
    m:close()]])
  assert(out == 'true\n', out .. err)
  if root then
    T.write_file(d .. '/mutex.theirs', '')
    os.execute('chown 65534 ' .. T.sh_quote(d .. '/mutex.theirs'))
    out = run_in_dir(d, "print(proc.mutex('theirs'))")
    assert(out:find("^nil\tmutex 'theirs': EACCES: permission denied " ..
      "%(owned by uid 65534%)\tEACCES"), out)
    os.execute('chown 65534 ' .. T.sh_quote(d))
    out = run_in_dir(d, "print(proc.semaphore('x'))")
    assert(out:find('EACCES', 1, true) and
      out:find('belongs to uid 65534', 1, true), out)
  else
    io.stderr:write('SKIP: chown to another user needs root; the owner ',
      'checks were not run\n')
  end
  local open = T.tmpname('.open')
  os.execute('mkdir -m 755 ' .. T.sh_quote(open))
  out = run_in_dir(open, "print(proc.event('x'))")
  assert(out:find('EACCES', 1, true) and
    out:find('is open to other users', 1, true), out)
end)

T.test('a symlink in place of an object is refused', function()
  local d = T.tmpname('.objects')
  os.execute('mkdir -m 700 ' .. T.sh_quote(d))
  os.execute(('ln -s /etc/passwd %s/mutex.link'):format(T.sh_quote(d)))
  local out = run_in_dir(d, "print(proc.mutex('link'))")
  assert(out:find('^nil\t') and out:find('ELOOP', 1, true), out)
end)

T.test('invalid names and arguments raise', function()
  for _, bad in ipairs{'', ('x'):rep(65), 'a/b', 'a b', '.hidden', 'é'} do
    T.check_error("bad argument #1 to 'mutex' (name ", proc.mutex, bad)
  end
  assert(proc.mutex(('x'):rep(64))):close()
  T.check_error("bad argument #1 to 'mutex' (string expected, got number)",
    proc.mutex, 1)
  T.check_error("bad argument #2 to 'semaphore' (integer from 0",
    proc.semaphore, 'x', -1)
  T.check_error("bad argument #2 to 'semaphore' (integer from 0",
    proc.semaphore, 'x', 1.5)
  T.check_error("bad argument #2 to 'event' (unknown option 'manul')",
    proc.event, 'x', {manul = true})
  T.check_error("bad argument #1 to 'remove' ('mutex', 'semaphore' or",
    proc.remove, 'lock', 'x')
  T.check_error("bad argument #2 to 'remove' (name has a character",
    proc.remove, 'mutex', 'a/b')
  local s = assert(proc.semaphore(name('semaphore')))
  T.check_error("bad argument #1 to 'wait' (timeout must be a number >= 0)",
    s.wait, s, -1)
  T.check_error("bad argument #1 to 'post' (integer from 1", s.post, s, 0)
  local m = assert(proc.mutex(name('mutex')))
  T.check_error("bad argument #1 to 'lock' (mutex expected, got table)",
    m.lock, s)
  m:close()
  s:close()
end)

T.test('remove detaches the name from the object', function()
  local n = name('mutex')
  local ok, err, code = proc.remove('mutex', n)
  assert(ok == nil and code == 'ENOENT', tostring(err))
  assert(err == "remove '" .. n .. "': ENOENT: no such file or directory",
    err)
  local a = assert(proc.mutex(n))
  assert(a:lock())
  assert(proc.remove('mutex', n) == true)
  local b = assert(proc.mutex(n))
  assert(b:trylock() == true, 'the new object is the old one')
  b:unlock()
  a:unlock()
  a:close()
  b:close()
end)

T.test('1000 create/close cycles leak no fd, file or thread', function()
  collectgarbage()
  local fds = table.concat(T.open_fds(), ' ')
  local files = S.own_files()
  local threads = tasks()
  local n = name('mutex')
  for _ = 1, 1000 do
    local m = assert(proc.mutex(n))
    assert(m:lock())
    m:unlock()
    m:close()
    local s = assert(proc.semaphore(n, 1))
    assert(s:wait(0))
    s:close()
    local e = assert(proc.event(n))
    e:set()
    e:close()
  end
  for _ = 1, 20 do  -- waits that time out run and end worker threads
    local s = assert(proc.semaphore(n))
    assert(not s:wait(0.001))
    s:close()
  end
  collectgarbage()
  assert(table.concat(T.open_fds(), ' ') == fds, 'fds leaked')
  assert(S.own_files() == files, 'files left behind')
  assert(tasks() == threads, 'threads left behind')
end)

S.clean_up()
T.done()
