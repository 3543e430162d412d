-- proc.mutex, proc.semaphore and proc.event: what each object does,
-- with procrun children as the other processes. Waits, timeouts and
-- names are in test_proc_sync_waits.lua.
local T = require'testlib'
local proc = require'proc'
local sched = require'proc.sched'
local S = require'synclib'
local name, dir, child, exits_ok = S.name, S.dir, S.child, S.exits_ok
local elapsed, check_timeout = S.elapsed, S.check_timeout

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

S.clean_up()
T.done()
