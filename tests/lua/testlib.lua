-- Helpers shared by the Lua scenario tests. Each test file is run as
--   procrun tests/lua/test_x.lua PATH_TO_PROCRUN
-- and ends with T.done(), which prints "N passed, N failed" and exits
-- nonzero when anything failed.

local T = {}

T.procrun = assert(arg and arg[1], 'usage: test_x.lua PATH_TO_PROCRUN')
if T.procrun:sub(1, 1) ~= '/' then
  T.procrun = assert(os.getenv('PWD'), 'PWD is not set') .. '/' .. T.procrun
end
if not T.procrun:find('^/') then  -- children may run in another dir
  local pwd = io.popen('pwd')
  T.procrun = pwd:read('*l') .. '/' .. T.procrun
  pwd:close()
end

local passed, failed = 0, 0

-- Runs fn as one named test; a failed assert fails this test only.
function T.test(name, fn)
  if os.getenv('TEST_VERBOSE') then io.stderr:write('RUN: ', name, '\n') end
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write('FAIL: ', name, '\n', tostring(err), '\n')
  end
end

-- Asserts that fn(...) raises an error whose text contains `text`
-- (a plain substring, not a pattern).
function T.check_error(text, fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, 'expected an error containing: ' .. text)
  err = tostring(err)
  assert(err:find(text, 1, true),
    ('error %q does not contain %q'):format(err, text))
  return err
end

-- Quotes s for /bin/sh.
function T.sh_quote(s)
  return "'" .. tostring(s):gsub("'", [['\'']]) .. "'"
end

local function slurp(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end

local tmp_count = 0
-- A fresh path in the test's temporary directory.
function T.tmpname(suffix)
  tmp_count = tmp_count + 1
  return ('%s/%d%s'):format(T.tmpdir(), tmp_count, suffix or '')
end

local tmpdir
function T.tmpdir()
  if not tmpdir then
    local p = io.popen('mktemp -d /tmp/procrun-test.XXXXXX')
    tmpdir = p:read('*l')
    p:close()
  end
  return tmpdir
end

function T.write_file(path, text)
  local f = assert(io.open(path, 'wb'))
  f:write(text)
  f:close()
  return path
end

-- Runs a shell command line with stdin from the string `input` (or
-- /dev/null); returns stdout, stderr, exit code.
function T.sh(cmdline, input)
  local out, err = T.tmpname('.out'), T.tmpname('.err')
  local inp = '/dev/null'
  if input then inp = T.write_file(T.tmpname('.in'), input) end
  local script = ('{ %s\n} <%s >%s 2>%s; echo $?'):format(cmdline,
    T.sh_quote(inp), T.sh_quote(out), T.sh_quote(err))
  local p = io.popen(script)
  local code = tonumber(p:read('*l'))
  p:close()
  local o, e = slurp(out), slurp(err)
  os.remove(out)
  os.remove(err)
  return o, e, code
end

-- Runs procrun with the given argument list (strings, not quoted).
function T.run(args, input)
  local words = { T.sh_quote(T.procrun) }
  for _, a in ipairs(args) do words[#words + 1] = T.sh_quote(a) end
  return T.sh(table.concat(words, ' '), input)
end

-- Leak checks for tests that spawn children (Linux /proc).

-- This process's pid: the first field of /proc/self/stat.
function T.pid()
  local f = assert(io.open('/proc/self/stat', 'rb'))
  local pid = tonumber(f:read('*l'):match('^(%d+)'))
  f:close()
  return pid
end

local ffi = require'ffi'
ffi.cdef[[
int fcntl(int fd, int cmd, ...);
struct procrun_test_timespec { long sec, nsec; };
int clock_gettime(int clock, struct procrun_test_timespec *ts);
]]

-- The open file descriptors of this process, as a sorted list. fcntl
-- F_GETFD asks about each one without opening anything itself.
function T.open_fds()
  local fds = {}
  for fd = 0, 1023 do
    if ffi.C.fcntl(fd, 1 --[[F_GETFD]]) >= 0 then fds[#fds + 1] = fd end
  end
  return fds
end

-- Seconds on the monotonic clock.
function T.now()
  local ts = ffi.new('struct procrun_test_timespec')
  ffi.C.clock_gettime(1 --[[CLOCK_MONOTONIC]], ts)
  return tonumber(ts.sec) + tonumber(ts.nsec) * 1e-9
end

local function read_line(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('*l')
  f:close()
  return s
end

-- This process's children: a list of {pid=, state=} (state 'Z' is a
-- zombie).
function T.children()
  local pid = T.pid()
  local list = read_line(('/proc/%d/task/%d/children'):format(pid, pid))
  local kids = {}
  for child in (list or ''):gmatch('%d+') do
    local stat = read_line('/proc/' .. child .. '/stat')
    local state = stat and stat:match('^%d+ %b() (%a)')
    if state then kids[#kids + 1] = {pid = tonumber(child), state = state} end
  end
  return kids
end

function T.zombies()
  local z = {}
  for _, c in ipairs(T.children()) do
    if c.state == 'Z' then z[#z + 1] = c.pid end
  end
  return z
end

local leak_fds

-- Remembers the open fds; T.done then checks that the test left no child
-- (running or zombie) and no extra fd. Call it after a first spawn, so
-- that the event loop's own fds already exist.
function T.watch_leaks()
  leak_fds = table.concat(T.open_fds(), ' ')
end

-- Waits up to `seconds` for every child to be gone, letting proc's loop
-- reap them by waiting on a short-lived child.
function T.settle(seconds)
  local proc = require'proc'
  local deadline = T.now() + (seconds or 5)
  while #T.children() > 0 and T.now() < deadline do
    assert(proc.exec('sleep', {'0.05'})):wait()
  end
end

local function check_leaks()
  T.settle()
  local kids = {}
  for _, c in ipairs(T.children()) do
    kids[#kids + 1] = c.pid .. ' (' .. c.state .. ')'
  end
  assert(#kids == 0, 'children left behind: ' .. table.concat(kids, ', '))
  local fds = table.concat(T.open_fds(), ' ')
  assert(fds == leak_fds, ('open fds were {%s}, now {%s}')
    :format(leak_fds, fds))
end

function T.done()
  if leak_fds then
    T.test('the test left no child and no open fd', check_leaks)
  end
  if tmpdir then os.execute('rm -rf ' .. T.sh_quote(tmpdir)) end
  print(('%d passed, %d failed'):format(passed, failed))
  -- Closing the state runs every finalizer, as a normal end would.
  os.exit(failed == 0 and 0 or 1, true)
end

return T
