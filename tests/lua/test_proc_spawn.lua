-- What every spawn gives the child, whichever way procrun starts it
-- (posix_spawn with a pidfd on Linux, uv_spawn elsewhere): its fds in
-- place, blocking stdio, default signal actions, and no descriptor kept
-- for a child that has exited.
local T = require'testlib'
local proc = require'proc'

assert(proc.exec('true')):wait()
T.watch_leaks()

-- Runs a Lua chunk in a new procrun through the shell; returns stdout,
-- stderr and the exit code.
local function chunk(src, shell_prefix)
  return T.sh((shell_prefix or '') .. T.sh_quote(T.procrun) .. ' -e '
    .. T.sh_quote(src))
end

T.test('stdout and stderr can trade places', function()
  local out, err, code = chunk([[
    local p = require'proc'.exec{cmd = {'sh', '-c', 'echo out; echo err >&2'},
      stdout = io.stderr, stderr = io.stdout}
    os.exit(p:wait())]])
  assert(code == 0, err)
  assert(out == 'err\n' and err == 'out\n', ('out %q, err %q'):format(out, err))
end)

T.test('the child starts with default signal actions, none blocked', function()
  local out, err, code = chunk([[
    local ffi = require'ffi'
    ffi.cdef[=[
    typedef void (*handler)(int);
    handler signal(int, handler);
    typedef struct { unsigned long bits[16]; } t_sigset;
    int sigemptyset(t_sigset *);
    int sigaddset(t_sigset *, int);
    int sigprocmask(int, const t_sigset *, t_sigset *);
    ]=]
    ffi.C.signal(10, ffi.cast('handler', 1))  -- SIGUSR1 ignored
    local set = ffi.new't_sigset'
    ffi.C.sigemptyset(set)
    ffi.C.sigaddset(set, 12)
    ffi.C.sigprocmask(0, set, nil)  -- SIGUSR2 blocked
    local proc = require'proc'
    local function signalled(name)
      local p = proc.exec{cmd = {'sh', '-c', 'kill -' .. name .. ' $$; exit 3'}}
      return select(3, p:wait())
    end
    io.write(tostring(signalled'USR1'), ' ', tostring(signalled'USR2'))]])
  assert(code == 0, err)
  assert(out == '10 12', 'the child kept the parent\'s signal state: ' .. out)
end)

T.test('exit codes survive a SIGCHLD that procrun inherited as ignored',
function()
  -- With SIGCHLD ignored the kernel reaps children itself and their
  -- statuses are lost, unless procrun puts the default action back.
  local out, err, code = chunk([[
    local ffi = require'ffi'
    ffi.cdef[=[
    typedef void (*handler)(int);
    handler signal(int, handler);
    ]=]
    ffi.C.signal(17, ffi.cast('handler', 1))  -- SIGCHLD ignored
    local proc = require'proc'
    local a = proc.exec{cmd = {'sh', '-c', 'exit 3'}}
    local b = proc.exec{cmd = {'sh', '-c', 'kill -TERM $$'}}
    io.write(tostring(a:wait()), ' ', tostring(select(3, b:wait())))]])
  assert(code == 0, err)
  assert(out == '3 15', 'exit statuses were lost: ' .. out)
end)

T.test('a child gets its inherited stdin in blocking mode', function()
  -- procrun's stdin is a pipe that stays empty for a while, and procrun
  -- makes it non-blocking: a cat reading it must wait, not fail.
  local out, err, code = chunk([[
    local ffi = require'ffi'
    ffi.cdef'int fcntl(int, int, ...);'
    local flags = ffi.C.fcntl(0, 3)  -- F_GETFL
    assert(ffi.C.fcntl(0, 4, ffi.cast('int', bit.bor(flags, 2048))) == 0)
    os.exit(require'proc'.exec('cat'):wait())]], '(sleep 0.3; echo late) | ')
  assert(code == 0, err)
  assert(out == 'late\n', out)
end)

T.test('an exited process kept by Lua holds no descriptor', function()
  local before = #T.open_fds()
  local ps = {}
  for i = 1, 20 do ps[i] = assert(proc.exec('true')) end
  for i = 1, 20 do assert(ps[i]:wait() == 0) end
  assert(#T.open_fds() == before, ('%d fds open, %d before')
    :format(#T.open_fds(), before))
  for i = 1, 20 do assert(ps[i]:status() == 'finished') end
end)

T.test('children beyond what descriptors allow are still watched', function()
  -- With 64 descriptors, 100 children at once must all start and be
  -- reaped, and 50 more that exit at once, and the children must leave
  -- the script descriptors for its own files and pipes.
  local out, err, code = chunk([[
    local ffi = require'ffi'
    ffi.cdef[=[
    struct t_rlimit { unsigned long cur, max; };
    int getrlimit(int, struct t_rlimit *);
    int setrlimit(int, const struct t_rlimit *);
    ]=]
    local lim = ffi.new'struct t_rlimit'
    assert(ffi.C.getrlimit(7, lim) == 0)  -- RLIMIT_NOFILE
    lim.cur = 64
    assert(ffi.C.setrlimit(7, lim) == 0)
    local proc = require'proc'
    local ps = {}
    for i = 1, 150 do
      local cmd = i % 3 == 0 and {'true'} or {'sleep', '0.3'}
      ps[i] = assert(proc.exec{cmd = cmd})
    end
    local f = assert(io.open('/dev/null'))
    f:close()
    local piped = assert(proc.exec{cmd = 'echo', args = {'x'}, stdout = 'pipe'})
    assert(piped.stdout:read('a') == 'x\n')
    assert(piped:wait() == 0)
    local n = 0
    for i = 1, 150 do
      if ps[i]:wait() == 0 then n = n + 1 end
    end
    io.write(n)]])
  assert(code == 0, err)
  assert(out == '150', out)
end)

-- Chunk source: lowers RLIMIT_NOFILE to 64, so that past 16 live children
-- exits are watched through SIGCHLD, not a descriptor each.
local few_fds = [[
local ffi = require'ffi'
ffi.cdef[=[
struct t_rlimit { unsigned long cur, max; };
int getrlimit(int, struct t_rlimit *);
int setrlimit(int, const struct t_rlimit *);
int getpid(void);
]=]
local lim = ffi.new'struct t_rlimit'
assert(ffi.C.getrlimit(7, lim) == 0)  -- RLIMIT_NOFILE
lim.cur = 64
assert(ffi.C.setrlimit(7, lim) == 0)
]]

-- Chunk source: children() lists this process's children from /proc, as
-- "pid(state)"; a zombie shows as "(Z)".
local list_children = [[
local function children()
  local pid = ffi.C.getpid()
  local f = assert(io.open(('/proc/%d/task/%d/children'):format(pid, pid)))
  local kids = {}
  for child in f:read('*a'):gmatch('%d+') do
    local s = io.open('/proc/' .. child .. '/stat')
    local state = s and s:read('*l'):match('^%d+ %b() (%a)')
    if s then s:close() end
    if state then kids[#kids + 1] = child .. '(' .. state .. ')' end
  end
  f:close()
  return kids
end
]]

T.test('forgotten and collected children are reaped past the fd limit',
function()
  local out, err, code = chunk(few_fds .. list_children .. [[
    local proc = require'proc'
    for i = 1, 60 do
      local p = assert(proc.exec('sleep', {'0.2'}))
      if i % 2 == 0 then p:forget() end  -- the others go to the GC
    end
    collectgarbage()
    collectgarbage()
    assert(#children() == 60, #children() .. ' children started')
    for _ = 1, 50 do  -- up to 5 s for the exits to be reaped
      proc.sleep(0.1)
      if #children() == 0 then break end
    end
    io.write(#children() == 0 and 'none' or table.concat(children(), ' '))]])
  assert(code == 0, err)
  assert(out == 'none', 'children left behind: ' .. out)
end)

T.done()
