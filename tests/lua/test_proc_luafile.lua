-- proc.exec_luafile: a Lua file run by a new process of this procrun.
local T = require'testlib'
local proc = require'proc'

-- The loop's first pipe reserves a descriptor for good (libuv keeps one
-- for running out of descriptors): open it before taking the baseline.
do
  local p = assert(proc.exec{cmd = 'true', stdout = true})
  p.stdout:read('a')
  p.stdout:close()
  p:wait()
end
T.watch_leaks()

-- Writes arg[0], the args and one variable to the file arg[1].
local child = T.write_file(T.tmpname('.lua'), [[
local t = {('%q'):format(arg[0])}
for i = 2, #arg do t[#t + 1] = ('%q'):format(arg[i]) end
local f = assert(io.open(arg[1], 'wb'))
f:write('return {', table.concat(t, ','), '}, ',
        ('%q'):format(tostring(os.getenv('PROCRUN_T_ENV'))))
f:close()
os.exit(tonumber(os.getenv('PROCRUN_T_EXIT')) or 0)
]])

T.test('exec_luafile runs the file with arg[0] and the args', function()
  local out = T.tmpname('.out')
  local p = assert(proc.exec_luafile(child, {out, 'a b', '', 3}))
  assert(p:wait() == 0)
  local seen = assert(loadfile(out))()
  assert(seen[1] == child, seen[1])
  assert(seen[2] == 'a b' and seen[3] == '' and seen[4] == '3')
end)

T.test('exec_luafile takes env and returns the exit code', function()
  local out = T.tmpname('.out')
  local p = assert(proc.exec_luafile(child, {out},
    {PROCRUN_T_ENV = 'given', PROCRUN_T_EXIT = '9'}))
  assert(p:wait() == 9)
  local _, env = assert(loadfile(out))()
  assert(env == 'given', env)
end)

-- A new directory holding a copy of the child script as name.
local function dir_with_child(name)
  local dir = T.tmpname('.d')
  assert(os.execute('mkdir ' .. T.sh_quote(dir)) == 0)
  local f = assert(io.open(child))
  T.write_file(dir .. '/' .. name, f:read('*a'))
  f:close()
  return dir
end

T.test('the table form takes script, args, setenv and dir', function()
  local dir = dir_with_child('rel.lua')
  local p = assert(proc.exec_luafile{script = 'rel.lua', args = {'out.txt'},
    setenv = {PROCRUN_T_ENV = 'delta'}, dir = dir})
  assert(p:wait() == 0)
  local seen, env = assert(loadfile(dir .. '/out.txt'))()
  assert(seen[1] == 'rel.lua' and env == 'delta')
end)

T.test('the positional form takes dir as its fourth argument', function()
  local dir = dir_with_child('pos.lua')
  local p = assert(proc.exec_luafile('pos.lua', {'out.txt'},
    {PROCRUN_T_ENV = 'positional'}, dir))
  assert(p:wait() == 0)
  local seen, env = assert(loadfile(dir .. '/out.txt'))()
  assert(seen[1] == 'pos.lua' and env == 'positional', seen[1])
end)

-- Writes arg[0], arg[-1], arg[-2] and whether arg[-3] is nil to the file
-- arg[1], as a chunk returning them.
local arg_dump = [[
local f = assert(io.open(arg[1], 'wb'))
f:write(('return %q, %q, %q, %s'):format(arg[0], tostring(arg[-1]),
  tostring(arg[-2]), tostring(arg[-3] == nil)))
f:close()
]]

T.test('a script named like an option or "-" runs as that file', function()
  local dir = T.tmpname('.d')
  assert(os.execute('mkdir ' .. T.sh_quote(dir)) == 0)
  for _, name in ipairs{'-x.lua', '-'} do
    T.write_file(dir .. '/' .. name, arg_dump)
    local out = dir .. '/' .. name .. '.out'
    -- A child reading "-" as stdin would find it empty and write nothing.
    local p = assert(proc.exec_luafile{script = name, args = {out},
                                       dir = dir, stdin = 'null'})
    assert(p:wait() == 0, name)
    local f = io.open(out)
    assert(f, name .. ' did not run')
    f:close()
    local arg0, arg1, arg2, no_arg3 = assert(loadfile(out))()
    assert(arg0 == name, arg0)
    -- As for "procrun -- file": the options end, then the executable.
    assert(arg1 == '--', arg1)
    assert(arg2:find('procrun', 1, true) and io.open(arg2):close(), arg2)
    assert(no_arg3, 'nothing comes before the executable')
  end
end)

T.test('exec_luafile takes stdin, stdout and stderr', function()
  local upper = T.write_file(T.tmpname('.lua'), [[
local s = io.read('*a')
io.write(s:upper())
io.stderr:write(#s)
]])
  local p = assert(proc.exec_luafile{script = upper, stdin = true,
                                     stdout = true, stderr = true})
  local out, err = p:communicate('abc')
  assert(out == 'ABC' and err == '3', tostring(out) .. ' ' .. tostring(err))
  assert(p:exit_code() == 0)
end)

T.test('exec_luafile never searches PATH for procrun', function()
  local out = T.tmpname('.out')
  local p = assert(proc.exec_luafile{script = child, args = {out},
                                     env = {PATH = '/nonexistent'}})
  assert(p:wait() == 0)
end)

T.test('exec_luafile of a missing file returns ENOENT', function()
  local p, msg, code = proc.exec_luafile('/no/such.lua')
  assert(p == nil and code == 'ENOENT', msg)
  assert(msg == "exec_luafile '/no/such.lua': ENOENT: no such file or "
    .. 'directory', msg)
end)

T.test('misuse of exec_luafile raises', function()
  T.check_error("bad argument #1 to 'exec_luafile' (field 'script': string"
    .. ' expected, got nil)',
    function() local p = proc.exec_luafile{} return p end)
  T.check_error("bad argument #1 to 'exec_luafile' (unknown option 'cmd')",
    function()
      local p = proc.exec_luafile{script = 'x', cmd = 'y'}
      return p
    end)
end)

T.done()
