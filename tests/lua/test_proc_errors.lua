-- proc.exec failures: the OS's come back as nil, message, code; misuse
-- raises before anything is spawned.
local T = require'testlib'
local proc = require'proc'

assert(proc.exec('true')):wait()
T.watch_leaks()

local function fails(code, text, ...)
  local p, msg, got = proc.exec(...)
  assert(p == nil, 'expected a failure')
  assert(got == code, ('code %s, expected %s: %s'):format(
    tostring(got), code, tostring(msg)))
  assert(msg:find(text, 1, true), ('%q lacks %q'):format(msg, text))
end

local function executable(text)
  local path = T.write_file(T.tmpname(), text)
  assert(os.execute('chmod +x ' .. T.sh_quote(path)) == 0)
  return path
end

T.test('exec of a missing file returns ENOENT', function()
  fails('ENOENT', "exec '/no/such/file': ENOENT: no such file or directory",
        '/no/such/file')
end)

T.test('exec of a missing program names the PATH it searched', function()
  local p, msg, code = proc.exec{cmd = 'procrun-no-such-program',
                                 env = {PATH = '/usr/bin:/bin'}}
  assert(p == nil and code == 'ENOENT')
  assert(msg == "exec 'procrun-no-such-program': ENOENT: no such file or "
    .. 'directory (searched PATH=/usr/bin:/bin)', msg)
end)

T.test('exec of a directory returns EACCES', function()
  fails('EACCES', "exec '/tmp': EACCES: permission denied", '/tmp')
end)

T.test('exec of a file without exec permission returns EACCES', function()
  local path = T.write_file(T.tmpname(), '#!/bin/sh\n')
  fails('EACCES', 'permission denied', path)
end)

T.test('exec of a file in no executable format returns ENOEXEC', function()
  local path = executable('echo this is no program\n')
  fails('ENOEXEC', "exec '" .. path .. "': ENOEXEC: exec format error", path)
  fails('ENOEXEC', 'ENOEXEC', executable(''))
end)

T.test('a script with #! and an ELF program both run', function()
  assert(proc.exec(executable('#!/bin/sh\nexit 4\n'))):wait()
  assert(proc.exec('/bin/sh', {'-c', 'exit 0'})):wait()
end)

T.test('exec with a missing dir names the dir', function()
  fails('ENOENT', "exec 'ls': dir '/nope': ENOENT: no such file or directory",
        'ls', nil, nil, '/nope')
end)

T.test('exec with a dir that is a file returns ENOTDIR', function()
  local file = T.write_file(T.tmpname(), '')
  fails('ENOTDIR', "dir '" .. file .. "': ENOTDIR", {cmd = 'ls', dir = file})
end)

T.test('exec with a too long argument list returns E2BIG', function()
  local big = {}
  for i = 1, 64 do big[i] = ('x'):rep(64 * 1024) end  -- 4 MiB in all
  fails('E2BIG', "exec 'true': E2BIG: argument list too long", 'true', big)
end)

-- Calls exec from Lua code (not through pcall), so that the error can
-- name the function.
local function raises(text, ...)
  local args = {n = select('#', ...), ...}
  T.check_error(text, function()
    local p = proc.exec(unpack(args, 1, args.n))
    return p
  end)
end

T.test('misuse of exec raises bad argument errors', function()
  raises("bad argument #1 to 'exec' (string expected, got nil)")
  raises("bad argument #1 to 'exec' (string expected, got boolean)", true)
  raises("bad argument #1 to 'exec' (field 'cmd': string expected, got nil)",
         {})
  raises("bad argument #1 to 'exec' (field 'dir': string expected, got "
         .. 'number)', {cmd = 'ls', dir = 1})
  raises("bad argument #1 to 'exec' (field 'args': table expected, got "
         .. 'string)', {cmd = 'ls', args = 'x'})
  raises("bad argument #1 to 'exec' (field 'args': item 2: string expected,"
         .. ' got boolean)', {cmd = 'ls', args = {'a', true}})
  raises("bad argument #2 to 'exec' (item 1: string expected, got table)",
         'ls', {{}})
  raises("bad argument #3 to 'exec' (table expected, got string)",
         'ls', nil, 'A=1')
  raises("bad argument #4 to 'exec' (string expected, got table)",
         'ls', nil, nil, {})
  raises("(field 'cmd': empty command)", {cmd = ''})
  raises("(field 'cmd': empty command)", {cmd = {}})
end)

T.test('an unknown option raises', function()
  raises("bad argument #1 to 'exec' (unknown option 'stdot')",
         {cmd = 'ls', stdot = 1})
  raises("unknown option (a number key)", {'ls', cmd = 'ls'})
end)

T.test('env and setenv together raise', function()
  raises("options 'env' and 'setenv' exclude each other",
         {cmd = 'ls', env = {}, setenv = {A = '1'}})
end)

T.test('bad variable names and values raise', function()
  raises("(field 'env': bad variable name 'A=B')",
         {cmd = 'ls', env = {['A=B'] = '1'}})
  raises("(field 'env': bad variable name '')",
         {cmd = 'ls', env = {[''] = '1'}})
  raises("(field 'env': variable name expected, got number)",
         {cmd = 'ls', env = {'x'}})
  raises("(field 'env': variable 'A': string expected, got boolean)",
         {cmd = 'ls', env = {A = true}})
  raises("(field 'setenv': variable 'A': false or string expected, got "
         .. 'boolean)', {cmd = 'ls', setenv = {A = true}})
  raises("(field 'env': variable 'A': contains a NUL byte)",
         {cmd = 'ls', env = {A = 'x\0y'}})
end)

T.test('a NUL byte in cmd, an arg or dir raises', function()
  raises('(contains a NUL byte)', 'l\0s')
  raises("(field 'args': item 1: contains a NUL byte)",
         {cmd = 'ls', args = {'a\0'}})
  raises("(field 'dir': contains a NUL byte)", {cmd = 'ls', dir = '/\0'})
end)

T.test('a raise happens before anything is spawned', function()
  local marker = T.tmpname('.marker')
  T.check_error('unknown option', proc.exec,
    {cmd = 'sh', args = {'-c', 'touch ' .. T.sh_quote(marker)}, bad = 1})
  T.check_error('field', proc.exec,
    {cmd = 'sh', args = {'-c', 'touch ' .. T.sh_quote(marker)}, dir = 1})
  assert(proc.exec('sleep', {'0.1'})):wait()
  assert(io.open(marker) == nil, 'a child ran')
end)

T.done()
