-- proc.mutex, proc.semaphore, proc.event and proc.remove: named objects
-- shared by processes, with procrun children as the other processes.
local T = require'testlib'
local proc = require'proc'
local sched = require'proc.sched'

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

-- Mutexes ---------------------------------------------------------------

T.test('4 processes x 1000 increments under one mutex end at 4000',
function()
  local file = T.tmpname('.counter')
  T.write_file(file, '0')
  local n = name('mutex')
  local kids = {}
  for i = 1, 4 do
    kids[i] = child([[
      local m = assert(proc.mutex(%q))
      for _ = 1, 1000 do
        assert(m:lock() == true)
        local f = assert(io.open(%q, 'r+'))
        local v = f:read('*n')
        f:seek('set')
        f:write(tostring(v + 1))
        f:close()
        m:unlock()
      end
      m:close()]], n, file)
  end
  for i = 1, 4 do exits_ok(kids[i], 'incrementer ' .. i) end
  local f = assert(io.open(file))
  local v = f:read('*a')
  f:close()
  assert(v == '4000', 'counter is ' .. v)
end)

T.watch_leaks()  -- the loop's own fds exist now

-- Starts a child that locks mutex n, sets event ready and sleeps.
local function holder(n, ready)
  local p = child([[
    local m = assert(proc.mutex(%q))
    assert(m:lock() == true)
    assert(proc.event(%q, {manual = true})):set()
    require'proc.sched'.sleep(60)]], n, ready)
  return p
end

T.test('an owner killed while holding the lock leaves it abandoned',
function()
  local n, r = name('mutex'), name('event')
  local ready = assert(proc.event(r, {manual = true}))
  local m = assert(proc.mutex(n))
  local p = holder(n, r)
  assert(ready:wait(10) == true, 'the holder did not start')
  assert(select(2, m:trylock()) == 'timeout')
  local killer = sched.thread(function()
    sched.sleep(0.2)
    assert(p:kill('KILL'))
  end)
  local t, ok, how = elapsed(m.lock, m, 10)
  killer:join()
  assert(ok == true and how == 'abandoned', tostring(how))
  assert(t < 2, 'the waiter did not wake when the owner died')
  p:wait()
  m:unlock()
  local ok2, how2 = m:lock(0)
  assert(ok2 == true and how2 == nil, 'abandoned twice: ' .. tostring(how2))
  m:unlock()
  m:close()
  ready:close()
end)

T.test('a mutex abandoned by the last process using it stays abandoned',
function()
  local n, r = name('mutex'), name('event')
  local ready = assert(proc.event(r, {manual = true}))
  local p = holder(n, r)
  assert(ready:wait(10) == true, 'the holder did not start')
  assert(p:kill('KILL'))
  p:wait()
  local m = assert(proc.mutex(n))
  local ok, how = m:lock(5)
  assert(ok == true and how == 'abandoned', tostring(how))
  m:unlock()
  m:close()
  ready:close()
end)

T.test('a handle closed while holding the mutex abandons it', function()
  local n = name('mutex')
  local keep = assert(proc.mutex(n))
  local m = assert(proc.mutex(n))
  assert(m:lock() == true)
  assert(m:close() == true)
  assert(m:close() == true, 'a second close is harmless')
  local ok, how = keep:lock(1)
  assert(ok == true and how == 'abandoned', tostring(how))
  keep:unlock()
  keep:close()
end)

T.test('a mutex is recursive within a thread and excludes other threads',
function()
  local m = assert(proc.mutex(name('mutex')))
  assert(m:lock() == true and m:lock() == true and m:trylock() == true)
  local got
  local other = sched.thread(function()
    T.check_error('which this thread does not hold', m.unlock, m)
    assert(select(2, m:trylock()) == 'timeout')
    got = m:lock(5)
    m:unlock()
  end)
  assert(m:unlock() and m:unlock())
  sched.sleep(0.05)
  assert(got == nil, 'the other thread got the mutex too early')
  assert(m:unlock() == true)
  other:join()
  assert(got == true, 'the other thread did not get the mutex')
  T.check_error('which this thread does not hold', m.unlock, m)
  m:close()
end)

T.test('two handles of one name exclude each other in one process',
function()
  local n = name('mutex')
  local a, b = assert(proc.mutex(n)), assert(proc.mutex(n))
  assert(a:lock() == true)
  local t, ok, err = elapsed(b.lock, b, 0.1)
  assert(ok == nil and err == 'timeout', tostring(err))
  check_timeout(t, 0.1, 'lock(0.1)')
  a:unlock()
  assert(b:trylock() == true)
  b:unlock()
  a:close()
  b:close()
end)

T.test('lock waits for another process to unlock', function()
  local n = name('mutex')
  local function event()
    return assert(proc.event(name('event'), {manual = true}))
  end
  local ready, go, unlocking, done = event(), event(), event(), event()
  -- The holder stays alive after unlock, so that its exit cannot be what
  -- lets the lock through.
  local p = child([[
    local function event(n) return assert(proc.event(n, {manual = true})) end
    local m = assert(proc.mutex(%q))
    assert(m:lock())
    event(%q):set()
    assert(event(%q):wait(20))
    event(%q):set()
    m:unlock()
    assert(event(%q):wait(20))]], n, ready.name, go.name, unlocking.name,
    done.name)
  assert(ready:wait(20), 'the holder did not start')
  local m = assert(proc.mutex(n))
  local ok, how, after_unlock
  local locker = sched.thread(function()  -- runs until lock() waits
    ok, how = m:lock(20)
    after_unlock = unlocking:wait(0)
    if ok then m:unlock() end
  end)
  assert(ok == nil, 'lock did not wait for the holder')
  go:set()
  local t = elapsed(locker.join, locker)
  assert(ok == true and how == nil, tostring(how))
  assert(after_unlock == true, 'lock returned before the holder unlocked')
  assert(t < 10, 'the unlock did not wake the waiting lock')
  done:set()
  exits_ok(p, 'holder')
  for _, o in ipairs{m, ready, go, unlocking, done} do o:close() end
end)

-- Semaphores ------------------------------------------------------------

T.test('a semaphore with initial 2 admits two at once and no third',
function()
  local n = name('semaphore')
  local s = assert(proc.semaphore(n, 2))
  local inside = assert(proc.semaphore(name('semaphore')))
  local refused = assert(proc.semaphore(name('semaphore')))
  local go = assert(proc.event(name('event'), {manual = true}))
  local kids = {}
  for i = 1, 3 do
    -- Those admitted stay inside until go is set.
    kids[i] = child([[
      local s = assert(proc.semaphore(%q))
      local ok, err = s:wait(0.3)
      if not ok then
        assert(err == 'timeout')
        assert(proc.semaphore(%q)):post()
        os.exit(3)
      end
      assert(proc.semaphore(%q)):post()
      assert(assert(proc.event(%q, {manual = true})):wait(20))
      s:post()]], n, refused.name, inside.name, go.name)
  end
  assert(inside:wait(20) and inside:wait(20), 'two were not admitted')
  assert(refused:wait(20), 'the third was not refused')
  go:set()
  local codes = {}
  for i = 1, 3 do
    local code = kids[i]:wait(20)
    codes[#codes + 1] = tostring(code)
  end
  table.sort(codes)
  assert(table.concat(codes, ' ') == '0 0 3', table.concat(codes, ' '))
  assert(s:wait(0) and s:wait(0), 'the count was not given back')
  assert(select(2, s:wait(0)) == 'timeout')
  for _, o in ipairs{s, inside, refused, go} do o:close() end
end)

T.test('post releases a waiting process and counts up', function()
  local n = name('semaphore')
  local s = assert(proc.semaphore(n))
  local p = child([[
    local s = assert(proc.semaphore(%q))
    assert(s:wait(10) == true)]], n)
  sched.sleep(0.1)
  assert(s:post(3) == true)
  exits_ok(p, 'waiter')
  assert(s:wait(0) and s:wait(0))
  assert(select(2, s:wait(0)) == 'timeout')
  s:close()
end)

T.test('a semaphore is shared while open and starts afresh after',
function()
  local n = name('semaphore')
  local a = assert(proc.semaphore(n, 3))
  local b = assert(proc.semaphore(n, 0))  -- opens: the 0 is ignored
  assert(b:wait(0) and b:wait(0) and a:wait(0))
  assert(select(2, a:wait(0)) == 'timeout')
  a:post()
  a:close()
  b:close()
  local files = io.popen('ls ' .. dir()):read('*a')
  assert(not files:find('semaphore.' .. n, 1, true), 'file left: ' .. n)
  local c = assert(proc.semaphore(n, 1))
  assert(c:wait(0) == true)
  assert(select(2, c:wait(0)) == 'timeout')
  c:close()
end)

T.test('post past the maximum count fails with EOVERFLOW', function()
  local sync = require'proc.sync_core'
  local s = assert(proc.semaphore(name('semaphore'), sync.max_count))
  local ok, err, code = s:post()
  assert(ok == nil and code == 'EOVERFLOW', tostring(err))
  assert(err:find("^post '"), err)
  s:close()
end)

-- Events ----------------------------------------------------------------

-- Starts k children that report on semaphore `up` when they wait and on
-- `woke` when event n released them.
local function event_waiters(k, n, manual, up, woke)
  local kids = {}
  for i = 1, k do
    kids[i] = child([[
      local e = assert(proc.event(%q, {manual = %s}))
      local up, woke = proc.semaphore(%q), proc.semaphore(%q)
      up:post()
      assert(e:wait(20) == true)
      woke:post()]], n, tostring(manual), up, woke)
  end
  return kids
end

T.test('a manual event wakes every waiter until reset', function()
  local n = name('event')
  local up = assert(proc.semaphore(name('semaphore')))
  local woke = assert(proc.semaphore(name('semaphore')))
  local e = assert(proc.event(n, {manual = true}))
  local kids = event_waiters(5, n, true, up.name, woke.name)
  for _ = 1, 5 do assert(up:wait(20), 'a waiter did not start') end
  sched.sleep(0.1)
  assert(select(2, woke:wait(0)) == 'timeout', 'woken before set')
  local t0 = T.now()
  assert(e:set() == true)
  for i = 1, 5 do exits_ok(kids[i], 'waiter ' .. i) end
  for _ = 1, 5 do assert(woke:wait(0)) end
  assert(T.now() - t0 < 5)
  assert(e:wait(0) == true and e:wait(0) == true, 'set is not sticky')
  assert(e:reset() == true)
  assert(select(2, e:wait(0)) == 'timeout')
  e:close()
  up:close()
  woke:close()
end)

T.test('an auto event wakes one waiter per set', function()
  local n = name('event')
  local up = assert(proc.semaphore(name('semaphore')))
  local woke = assert(proc.semaphore(name('semaphore')))
  local e = assert(proc.event(n))
  local kids = event_waiters(5, n, false, up.name, woke.name)
  for _ = 1, 5 do assert(up:wait(20), 'a waiter did not start') end
  sched.sleep(0.1)
  for round = 1, 5 do
    assert(e:set() == true)
    assert(woke:wait(10), 'nobody woke in round ' .. round)
    local extra = woke:wait(0.2)
    assert(not extra, 'two woke in round ' .. round)
  end
  for i = 1, 5 do exits_ok(kids[i], 'waiter ' .. i) end
  assert(select(2, e:wait(0)) == 'timeout', 'still set')
  e:close()
  up:close()
  woke:close()
end)

T.test('an auto event set with nobody waiting releases the next wait',
function()
  local e = assert(proc.event(name('event'), {initial = true}))
  assert(e:wait(0) == true)
  assert(select(2, e:wait(0)) == 'timeout')
  e:set()
  e:set()  -- no waiter: one set is kept, not two
  assert(e:wait(0) == true)
  assert(select(2, e:wait(0)) == 'timeout')
  e:close()
end)

T.test('a semaphore and an event whose holders all crashed start afresh',
function()
  local sn, en = name('semaphore'), name('event')
  local up = assert(proc.semaphore(name('semaphore')))
  -- Each takes a unit; the first also sets the (manual) event and the
  -- second waits for a third unit. This process opens neither.
  local kids = {}
  local first = {'e:set()', ''}
  local last = {"require'proc.sched'.sleep(60)", 's:wait()'}
  for i = 1, 2 do
    kids[i] = child([[
      local s = assert(proc.semaphore(%q, 2))
      local e = assert(proc.event(%q, {manual = true}))
      assert(s:wait(0) == true)
      %s
      assert(proc.semaphore(%q)):post()
      %s]], sn, en, first[i], up.name, last[i])
    assert(up:wait(20), 'holder ' .. i .. ' did not start')
  end
  for i = 1, 2 do
    assert(kids[i]:kill('KILL'))
    local _, how, sig = kids[i]:wait(20)
    assert(how == 'killed' and sig == 9, tostring(how))
  end
  local s = assert(proc.semaphore(sn, 2))
  assert(s:wait(0) == true and s:wait(0) == true, 'not admitted twice')
  assert(select(2, s:wait(0)) == 'timeout', 'a third was admitted')
  local e = assert(proc.event(en))  -- auto-reset now
  assert(select(2, e:wait(0)) == 'timeout', 'the event is still set')
  assert(e:set() and e:wait(0) == true)
  assert(select(2, e:wait(0)) == 'timeout', 'the event is still manual')
  for _, o in ipairs{s, e, up} do o:close() end
end)

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
  local files = T.sh('ls ' .. T.sh_quote(dir()))
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
  assert(T.sh('ls ' .. T.sh_quote(dir())) == files, 'files left behind')
  assert(tasks() == threads, 'threads left behind')
end)

T.test('objects left by this run are cleaned up', function()
  for _, u in ipairs(used) do proc.remove(u[1], u[2]) end
  local left = T.sh('ls ' .. T.sh_quote(dir()))
  assert(not left:find(prefix, 1, true), 'left: ' .. left)
end)

T.done()
