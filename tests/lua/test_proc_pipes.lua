-- Talking to children: stdio redirection, pipe ends that behave like Lua
-- files, pipelines without a shell, communicate.
local T = require'testlib'
local proc = require'proc'
local q = T.sh_quote

local function lua_child(code, opts)
  opts = opts or {}
  opts.cmd = {T.procrun, '-e', code}
  return assert(proc.exec(opts))
end

-- The loop's first stream reserves a descriptor for good (libuv keeps one
-- for running out of descriptors): open it before taking the baseline.
do
  local p = assert(proc.exec{cmd = 'true', stdout = true})
  p.stdout:read('a')
  p.stdout:close()
  p:wait()
end
T.watch_leaks()

T.test('stdout = true gives a readable pipe; read("a") reads to the end',
function()
  local p = lua_child('io.write("hello\\nworld")', {stdout = true})
  assert(p.stdout and not p.stdin and not p.stderr)
  assert(p.stdout:read('a') == 'hello\nworld')
  assert(p.stdout:read('a') == '', 'read("a") at the end gives ""')
  assert(p.stdout:read('l') == nil)
  assert(p.stdout:read(1) == nil)
  assert(p:wait() == 0)
  p.stdout:close()
end)

T.test('read formats l, L, n and *l behave as io.read', function()
  local p = lua_child('io.write("ab\\ncd\\nefgh")', {stdout = 'pipe'})
  local o = p.stdout
  assert(o:read('l') == 'ab')
  assert(o:read('*L') == 'cd\n')
  assert(o:read(0) == '')
  assert(o:read(2) == 'ef')
  assert(o:read(10) == 'gh')
  assert(o:read(0) == nil)
  assert(o:read() == nil)
  p:wait()
  o:close()
end)

T.test('read with several formats returns several values', function()
  local p = lua_child('io.write("1\\n2\\n")', {stdout = true})
  local a, b, c = p.stdout:read('l', 'l', 'l')
  assert(a == '1' and b == '2' and c == nil, tostring(a))
  p:wait()
  p.stdout:close()
end)

T.test('lines() keeps CR and returns a last line without newline',
function()
  local p = lua_child('io.write("a\\r\\nb\\r\\nlast")', {stdout = true})
  local got = {}
  for l in p.stdout:lines() do got[#got + 1] = l end
  assert(#got == 3 and got[1] == 'a\r' and got[2] == 'b\r' and
    got[3] == 'last', table.concat(got, '|'))
  p:wait()
  p.stdout:close()
end)

T.test('stdin = true gives a writable pipe; close ends the stream',
function()
  local p = lua_child('io.write((io.read("*a"):upper()))',
    {stdin = true, stdout = true})
  assert(p.stdin:write('abc', 12, 'def') == p.stdin)
  assert(p.stdin:close() == true)
  assert(p.stdin:close() == true, 'closing twice is fine')
  assert(p.stdout:read('a') == 'ABC12DEF')
  assert(p:wait() == 0)
  p.stdout:close()
  p.stdout:close()
end)

T.test('write rejects what is not a string or number', function()
  local p = lua_child('io.read("*a")', {stdin = true})
  T.check_error("bad argument #2 to 'write' (string expected, got table)",
    p.stdin.write, p.stdin, 'x', {})
  p.stdin:close()
  p:wait()
end)

-- Asserts that the one-line function fn raises exactly msg, placed at its
-- own line: misuse points at the caller, as with Lua's file methods.
local function check_misuse(msg, fn)
  local ok, err = pcall(fn)
  assert(not ok, 'expected an error: ' .. msg)
  local info = debug.getinfo(fn, 'S')
  local want = ('%s:%d: %s'):format(info.short_src, info.linedefined, msg)
  assert(err == want, ('got %q, expected %q'):format(tostring(err), want))
end

T.test('misuse of a pipe end raises as misuse of a Lua file does',
function()
  local p = assert(proc.exec{cmd = 'cat', stdin = true, stdout = true})
  local i, o = p.stdin, p.stdout
  local fmt = "bad argument #1 to 'read' (invalid format)"
  check_misuse(fmt, function() local v = io.stdin:read('x') return v end)
  check_misuse(fmt, function() local v = o:read('x') return v end)
  -- Checked before the first format waits for a line that never comes.
  check_misuse("bad argument #2 to 'read' (invalid format)",
    function() local v = o:read('l', 'x') return v end)
  check_misuse("bad argument #1 to 'read' (count must be >= 0)",
    function() local v = o:read(-1) return v end)
  check_misuse("bad argument #1 to 'read' (invalid option)",
    function() local v = o:read({}) return v end)
  check_misuse("bad argument #1 to 'lines' (invalid format)",
    function() local v = o:lines('x') return v end)
  check_misuse("calling 'read' on bad self (pipe is not readable)",
    function() local v = i:read() return v end)
  check_misuse("calling 'lines' on bad self (pipe is not readable)",
    function() local v = i:lines() return v end)
  check_misuse("calling 'write' on bad self (pipe is not writable)",
    function() local v = o:write('x') return v end)
  check_misuse("bad argument #1 to 'write' (string expected, got table)",
    function() local v = i:write({}) return v end)
  local lines = o:lines()
  i:close()
  o:close()
  check_misuse('attempt to use a closed pipe',
    function() local v = o:read() return v end)
  check_misuse('attempt to use a closed pipe',
    function() local v = i:write('x') return v end)
  check_misuse('attempt to use a closed pipe',
    function() local v = lines() return v end)
  p:wait()
end)

T.test('read("L") at the end of the stream gives nil', function()
  local p = lua_child('io.write("a\\nb")', {stdout = true})
  assert(p.stdout:read('L') == 'a\n')
  assert(p.stdout:read('L') == 'b')
  assert(p.stdout:read('L') == nil)
  assert(p.stdout:read('*L') == nil)
  p:wait()
  p.stdout:close()
end)

T.test('stderr = true and stderr = "stdout"', function()
  local p = lua_child('io.write("out") io.stderr:write("err")',
    {stdout = true, stderr = true})
  assert(p.stdout:read('a') == 'out')
  assert(p.stderr:read('a') == 'err')
  p:wait()
  p.stdout:close()
  p.stderr:close()
  p = lua_child('io.write("out") io.stdout:flush() io.stderr:write("err")',
    {stdout = true, stderr = 'stdout'})
  assert(not p.stderr)
  assert(p.stdout:read('a') == 'outerr')
  p:wait()
  p.stdout:close()
end)

T.test('"null" connects to the null device', function()
  local p = lua_child('io.write(io.read("*a") == "" and "empty" or "?") ' ..
    'io.stderr:write("lost")', {stdin = 'null', stdout = true,
                                 stderr = 'null'})
  assert(p.stdout:read('a') == 'empty')
  p:wait()
  p.stdout:close()
end)

T.test('"inherit" and nil share procrun\'s own stdio', function()
  local out = T.run{'-e', [[
    local proc = require'proc'
    local p = proc.exec{cmd = {arg[-3] or arg[-2], '-e', 'print("child")'},
                        stdout = 'inherit'}
    p:wait()]]}
  -- arg[-3] is the procrun binary in "procrun -e CODE"
  assert(out == 'child\n', out)
end)

T.test('a Lua file handle can be a child\'s stdout and stdin', function()
  local path = T.tmpname('.txt')
  local f = assert(io.open(path, 'w'))
  local p = lua_child('io.write("to file")', {stdout = f})
  assert(p:wait() == 0)
  f:close()
  f = assert(io.open(path))
  local p2 = lua_child('io.write(io.read("*a"):upper())',
    {stdin = f, stdout = true})
  assert(p2.stdout:read('a') == 'TO FILE')
  p2:wait()
  f:close()
  p2.stdout:close()
end)

T.test('a three-stage pipeline passes data without a shell', function()
  local a = lua_child('for i = 1, 1000 do print(i) end', {stdout = true})
  local b = assert(proc.exec{cmd = {'grep', '7'}, stdin = a.stdout,
                             stdout = true})
  local c = assert(proc.exec{cmd = {'wc', '-l'}, stdin = b.stdout,
                             stdout = true})
  local n = tonumber(c.stdout:read('a'))
  -- 7, 17..97 (10 + 9 with 70..79 counted once), and so on: count in Lua
  local want = 0
  for i = 1, 1000 do if tostring(i):find('7') then want = want + 1 end end
  assert(n == want, tostring(n))
  assert(a:wait() == 0 and b:wait() == 0 and c:wait() == 0)
  c.stdout:close()
end)

T.test('an end handed to another process is closed in procrun', function()
  local a = lua_child('print(1)', {stdout = true})
  local b = assert(proc.exec{cmd = {'cat'}, stdin = a.stdout,
                             stdout = true})
  T.check_error('closed pipe', a.stdout.read, a.stdout, 'a')
  assert(b.stdout:read('a') == '1\n')
  a:wait()
  b:wait()
  b.stdout:close()
end)

T.test('everything a child wrote can be read after wait returns', function()
  -- 4 MiB is far more than a pipe holds: wait must keep draining.
  local p = lua_child('io.write(("x"):rep(4 * 1024 * 1024))',
    {stdout = true})
  assert(p:wait() == 0)
  assert(#p.stdout:read('a') == 4 * 1024 * 1024)
  p.stdout:close()
end)

T.test('a child that exits right after a large write loses nothing',
function()
  local p = lua_child('io.write(("y"):rep(1000003)) os.exit(0)',
    {stdout = true})
  local s = p.stdout:read('a')
  assert(#s == 1000003 and not s:find('[^y]'), #s)
  p:wait()
  p.stdout:close()
end)

T.test('writing to a child that closed stdin returns EPIPE', function()
  -- io.stdin:close() leaves a standard file open; close(2) does not.
  local p = lua_child([[
    local ffi = require'ffi'
    ffi.cdef'int close(int);'
    ffi.C.close(0)
    print('closed')
    io.stdout:flush()
    local t = os.clock() + 0.3
    while os.clock() < t do end]], {stdin = true, stdout = true})
  assert(p.stdout:read('l') == 'closed')
  local chunk = ('z'):rep(1024 * 1024)
  local ok, msg, code = p.stdin:write(chunk)
  assert(ok == nil and code == 'EPIPE', tostring(msg))
  assert(msg:find('EPIPE', 1, true), msg)
  p.stdin:close()
  p:wait()
  p.stdout:close()
end)

T.test('a queued write to a reader that goes away returns EPIPE',
function()
  -- The reader starts late: the kernel takes what fits in the pipe and
  -- the rest waits in the loop's queue until head has come and gone.
  local p = assert(proc.exec{cmd = {'sh', '-c',
    'sleep 0.2; exec head -c 10 >/dev/null'}, stdin = true})
  local ok, msg, code = p.stdin:write(('q'):rep(10 * 1024 * 1024))
  assert(ok == nil and code == 'EPIPE', tostring(msg))
  assert(msg == ("write 'stdin of process %d': EPIPE: broken pipe")
    :format(p.id), msg)
  assert(p.stdin:close() == true)
  assert(p:wait() == 0, 'procrun lives on, and so does head')
end)

T.test('communicate returns when the child reads none of its input',
function()
  local big = ('i'):rep(10 * 1024 * 1024)
  -- Input still queued when the child exits, then a child already gone.
  local p = assert(proc.exec{cmd = {'sh', '-c', 'sleep 0.2; echo done'},
                             stdin = true, stdout = true})
  local out, err = p:communicate(big)
  assert(out == 'done\n', tostring(err))
  assert(p:exit_code() == 0)
  p = assert(proc.exec{cmd = 'true', stdin = true, stdout = true})
  p:wait()
  out, err = p:communicate(big)
  assert(out == '', tostring(err))
end)

T.test('communicate moves 100 MB each way through cat', function()
  local p = assert(proc.exec{cmd = {'cat'}, stdin = true, stdout = true})
  local input = ('0123456789abcdef'):rep(100 * 1024 * 1024 / 16)
  local out, err = p:communicate(input)
  assert(out and #out == #input, tostring(err))
  assert(out == input)
  assert(err == nil)
  assert(p:exit_code() == 0)
end)

T.test('communicate reads stdout and stderr together', function()
  local p = lua_child([[
    for i = 1, 200 do
      io.stdout:write(("o"):rep(10000)) io.stderr:write(("e"):rep(10000))
    end]], {stdout = true, stderr = true})
  local out, err = p:communicate()
  assert(#out == 2000000 and #err == 2000000)
end)

T.test('communicate with a timeout kills the child', function()
  local p = lua_child('io.write("partial") io.stdout:flush() ' ..
    'while true do end', {stdout = true})
  local ok, why, out = p:communicate(nil, {timeout = 0.3})
  assert(ok == nil and why == 'timeout', tostring(why))
  assert(out == 'partial', tostring(out))
  assert(select(2, p:wait()) == 'killed')
end)

T.test('communicate past max_output kills the child', function()
  local p = lua_child('while true do io.write(("m"):rep(4096)) end',
    {stdout = true})
  local ok, why = p:communicate(nil, {max_output = 100000})
  assert(ok == nil and why == 'max_output', tostring(why))
  assert(select(2, p:wait()) == 'killed')
end)

T.test('communicate rejects unknown options', function()
  local p = lua_child('', {stdout = true})
  T.check_error("unknown option 'timout'", p.communicate, p, nil,
    {timout = 1})
  p:wait()
  p.stdout:close()
end)

T.test('200 threads each drive a child with 1 MB through cat', function()
  local mb = ('t'):rep(1024 * 1024)
  local threads, results = {}, {}
  for i = 1, 200 do
    threads[i] = proc.thread(function()
      local p = assert(proc.exec{cmd = {'cat'}, stdin = true,
                                 stdout = true})
      local reader = proc.thread(function() return p.stdout:read('a') end)
      assert(p.stdin:write(mb))
      p.stdin:close()
      results[i] = reader:join()
      assert(p:wait() == 0)
      p.stdout:close()
    end)
  end
  for i = 1, 200 do threads[i]:join() end
  for i = 1, 200 do assert(results[i] == mb, i) end
end)

T.test('proc.shell takes stdin, stdout and stderr too', function()
  local p = assert(proc.shell('tr a-z A-Z; echo err >&2',
    {stdin = true, stdout = true, stderr = true}))
  local out, err = p:communicate('abc\n')
  assert(out == 'ABC\n' and err == 'err\n', tostring(out))
  assert(p:exit_code() == 0)
end)

T.test('bad stdio values raise before anything is spawned', function()
  local function exec(t) local p = proc.exec(t) return p end
  T.check_error("bad argument #1 to 'exec' (field 'stdout': " ..
    "'inherit', 'pipe', 'null', true, a pipe or a file expected, got " ..
    "string 'pipes')", exec, {cmd = 'true', stdout = 'pipes'})
  T.check_error("field 'stdin': 'stdout' is only for stderr",
    exec, {cmd = 'true', stdin = 'stdout'})
  T.check_error("unknown option 'stdot'", exec, {cmd = 'true', stdot = true})
  local p = lua_child('', {stdin = true, stdout = true})
  T.check_error("field 'stdin': pipe is not readable", exec,
    {cmd = 'cat', stdin = p.stdin})
  T.check_error("field 'stdout': pipe is not writable", exec,
    {cmd = 'cat', stdout = p.stdout})
  p:forget()
  T.check_error("field 'stdin': pipe is closed", exec,
    {cmd = 'cat', stdin = p.stdout})
  local f = io.open('/dev/null')
  f:close()
  T.check_error("field 'stdin': attempt to use a closed file", exec,
    {cmd = 'cat', stdin = f})
  T.settle()
  assert(#T.children() == 0, 'a bad call spawned something')
end)

T.test('forget closes the process\'s pipes', function()
  local p = lua_child('io.read("*a")', {stdin = true, stdout = true})
  local i, o = p.stdin, p.stdout
  p:forget()
  T.check_error('closed pipe', o.read, o)
  T.check_error('closed pipe', i.write, i, 'x')
end)

T.done()
