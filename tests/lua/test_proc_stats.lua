-- Live CPU and memory figures: p:stats() and proc.stats(pid), checked
-- against what the test reads from /proc itself.
local T = require'testlib'
local proc = require'proc'
local ffi = require'ffi'

if jit.os ~= 'Linux' then
  io.stderr:write('test_proc_stats: SKIPPED: the figures are checked ',
    'against Linux /proc, and stats is only implemented on Linux\n')
  os.exit(77)
end

ffi.cdef'long sysconf(int name);'
local kTicks = tonumber(ffi.C.sysconf(2 --[[_SC_CLK_TCK]]))

-- The loop's first stream reserves a descriptor for good: open it before
-- taking the baseline.
do
  local p = assert(proc.exec{cmd = 'true', stdout = true})
  p.stdout:read('a')
  p.stdout:close()
  p:wait()
end
T.watch_leaks()

local function read_file(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('a')
  f:close()
  return s
end

-- pid's figures as the kernel prints them, read with Lua patterns.
local function kernel(pid)
  local status = read_file(('/proc/%d/status'):format(pid))
  local stat = read_file(('/proc/%d/stat'):format(pid))
  local btime = tonumber(read_file('/proc/stat'):match('\nbtime (%d+)'))
  local function kb(key)
    return tonumber(status:match('\n' .. key .. ':%s*(%d+) kB') or 0) * 1024
  end
  local f = {}
  for w in stat:match('^.*%)(.*)$'):gmatch('%S+') do f[#f + 1] = w end
  local function field(n) return f[n - 2] end  -- f[1] is field 3
  return {
    rss = kb('VmRSS'), vms = kb('VmSize'), peak_rss = kb('VmHWM'),
    cpu_user = tonumber(field(14)) / kTicks,
    cpu_sys = tonumber(field(15)) / kTicks,
    threads = tonumber(field(20)),
    started = btime + tonumber(field(22)) / kTicks,
    letter = field(3),
  }
end

local function near(what, got, want, tolerance)
  assert(math.abs(got - want) <= tolerance,
    ('%s: got %.6g, the kernel says %.6g (tolerance %.3g)')
    :format(what, got, want, tolerance))
end

-- Memory may move by a few pages between two reads.
local function near_bytes(what, got, want)
  near(what, got, want, math.max(want * 0.1, 16 * 4096))
end

local function check_against_kernel(s, k)
  near_bytes('rss', s.rss, k.rss)
  near_bytes('vms', s.vms, k.vms)
  near_bytes('peak_rss', s.peak_rss, k.peak_rss)
  near('cpu_user', s.cpu_user, k.cpu_user, 0.1)
  near('cpu_sys', s.cpu_sys, k.cpu_sys, 0.1)
  near('started', s.started, k.started, 1.01)  -- btime is whole seconds
  assert(s.threads == k.threads,
    ('threads: got %s, the kernel says %s'):format(s.threads, k.threads))
end

-- A child that takes ~50 MB, burns CPU for 0.3 s, says "ready" and then
-- blocks reading stdin.
local kHog = [[
  local big = string.rep('x', 50 * 1024 * 1024)
  local t0 = os.clock()
  while os.clock() - t0 < 0.3 do end
  io.write('ready\n')
  io.flush()
  io.read('l')
  io.write(#big)
]]

local function start_hog()
  local p = assert(proc.exec{cmd = {T.procrun, '-e', kHog}, stdin = 'pipe',
    stdout = 'pipe'})
  assert(p.stdout:read('l') == 'ready', 'the child did not start')
  return p
end

local function finish_hog(p)
  local out = p:communicate('\n')
  assert(out == tostring(50 * 1024 * 1024), tostring(out))
  assert(p:wait() == 0)
end

-- Calls p:stats() (or proc.stats(pid)) until the state is `want`, for up
-- to 10 seconds; returns the last figures.
local function await_state(get, want)
  local deadline, s = T.now() + 10
  repeat
    s = assert(get())
    if s.state == want then return s end
    proc.sleep(0.02)
  until T.now() > deadline
  error(('the state stayed %s, never %s'):format(s.state, want))
end

local function sleeper()
  return assert(proc.exec('sleep', {'30'}))
end

T.test('stats of a child match the figures of /proc', function()
  local p = start_hog()
  local s = await_state(function() return p:stats() end, 'sleeping')
  check_against_kernel(s, kernel(p.id))
  assert(s.rss >= 50e6, 'rss ' .. s.rss .. ' misses the 50 MB string')
  assert(s.peak_rss >= s.rss and s.vms >= s.rss)
  assert(s.cpu_user + s.cpu_sys >= 0.25,
    ('cpu %.2f s, but the child burned 0.3 s'):format(s.cpu_user + s.cpu_sys))
  assert(s.threads >= 1)
  local age = os.time() - s.started
  assert(age > -2 and age < 30, ('started %.1f s ago'):format(age))
  finish_hog(p)
end)

T.test('proc.stats of a child pid gives what p:stats() gives', function()
  local p = start_hog()
  local a = await_state(function() return p:stats() end, 'sleeping')
  local b = assert(proc.stats(p.id))
  check_against_kernel(b, a)
  assert(b.state == a.state and b.started == a.started)
  finish_hog(p)
end)

T.test('a stopped child is stopped, and sleeping again after CONT',
function()
  local p = sleeper()
  local get = function() return p:stats() end
  await_state(get, 'sleeping')
  assert(p:kill('STOP'))
  local s = await_state(get, 'stopped')
  assert(kernel(p.id).letter == 'T', 'the kernel does not say T')
  assert(s.rss > 0, 'a stopped child keeps its memory')
  assert(p:kill('CONT'))
  await_state(get, 'sleeping')
  p:kill()
  p:wait()
end)

T.test('a busy child is running and its cpu time grows', function()
  -- Bounded, so that a failed test leaves no endless child behind.
  local p = assert(proc.exec(T.procrun, {'-e',
    'local t = os.time() + 30 while os.time() < t do end'}))
  local get = function() return p:stats() end
  local first = await_state(get, 'running')
  local deadline, s = T.now() + 10
  repeat
    proc.sleep(0.05)
    s = assert(p:stats())
  until s.cpu_user > first.cpu_user or T.now() > deadline
  assert(s.cpu_user > first.cpu_user,
    ('cpu_user stayed %.2f s'):format(s.cpu_user))
  assert(s.peak_rss >= s.rss)
  p:kill()
  p:wait()
end)

T.test('a zombie that is not ours reads as zombie without memory',
function()
  -- The middle procrun reaps only when it runs its loop, never while it
  -- blocks in io.read: its exited child stays a zombie until then.
  local p = assert(proc.exec{cmd = {T.procrun, '-e', [[
    print(require'proc'.exec('true').id)
    io.stdout:flush()
    io.read('l')]]}, stdin = 'pipe', stdout = 'pipe'})
  local zombie = assert(tonumber(p.stdout:read('l')))
  local s = await_state(function() return proc.stats(zombie) end, 'zombie')
  assert(s.rss == 0 and s.vms == 0, 'a zombie has no address space')
  p:communicate('\n')
  assert(p:wait() == 0)
end)

T.test('stats of an exited child returns finished', function()
  local p = assert(proc.exec('true'))
  assert(p:wait() == 0)
  local s, why = p:stats()
  assert(s == nil and why == 'finished', tostring(why))
end)

T.test('stats of a killed child returns finished', function()
  local p = sleeper()
  assert(p:stats())
  p:kill()
  assert(select(2, p:wait()) == 'killed')
  local s, why = p:stats()
  assert(s == nil and why == 'finished', tostring(why))
end)

T.test('stats of a child that exited unwaited returns finished', function()
  local p = assert(proc.exec('true'))
  local deadline = T.now() + 10
  while p:stats() and T.now() < deadline do proc.sleep(0.01) end
  local s, why = p:stats()
  assert(s == nil and why == 'finished', tostring(why))
end)

T.test('stats of a forgotten process returns forgotten', function()
  local p = sleeper()
  local id = p.id
  p:forget()
  local s, why = p:stats()
  assert(s == nil and why == 'forgotten', tostring(why))
  os.execute('kill ' .. id)
end)

T.test('proc.stats without a pid describes procrun itself', function()
  local before = kernel(T.pid())
  local s = assert(proc.stats())
  local after = kernel(T.pid())
  assert(s.state == 'running', s.state)
  check_against_kernel(s, before)
  assert(s.cpu_user >= before.cpu_user and s.cpu_user <= after.cpu_user,
    'cpu_user is not between two reads of /proc')
  assert(s.cpu_sys >= before.cpu_sys and s.cpu_sys <= after.cpu_sys,
    'cpu_sys is not between two reads of /proc')
  local same = assert(proc.stats(T.pid()))
  assert(same.started == s.started)
end)

T.test('proc.stats of a pid that does not exist returns ESRCH', function()
  -- Every pid is below pid_max.
  local pid = tonumber(read_file('/proc/sys/kernel/pid_max'))
  local s, msg, code = proc.stats(pid)
  assert(s == nil and code == 'ESRCH', tostring(msg))
  assert(msg == ('stats %d: ESRCH: no such process'):format(pid), msg)
end)

T.test('a pid that is not an integer >= 0 raises', function()
  local function stats(pid) local r = proc.stats(pid) return r end
  local bad = "bad argument #1 to 'stats' (pid must be an integer >= 0)"
  T.check_error(bad, stats, -1)
  T.check_error(bad, stats, 1.5)
  T.check_error(bad, stats, 0 / 0)
  T.check_error("bad argument #1 to 'stats' (pid out of range)", stats, 2^40)
  T.check_error("bad argument #1 to 'stats' (number expected, got string)",
    stats, '1')
end)

T.test('the stats method refuses what is not a process', function()
  local p = sleeper()
  T.check_error("bad argument #1 to 'stats' (process expected, got table)",
    function() local r = p.stats({}) return r end)
  p:kill()
  p:wait()
end)

T.done()
