-- proc.exec: what the child gets (argv, environment, directory) and the
-- exit codes that come back.
local T = require'testlib'
local proc = require'proc'

assert(proc.exec('true')):wait()
T.watch_leaks()

-- A child that writes its arguments (from arg[2] on) to the file arg[1]
-- as a Lua chunk returning them.
local dump_args = T.write_file(T.tmpname('.lua'), [[
local t = {}
for i = 2, #arg do t[#t + 1] = ('%q'):format(arg[i]) end
local f = assert(io.open(arg[1], 'wb'))
f:write('return {', table.concat(t, ','), '}')
f:close()
]])

-- A child that writes its environment to the file arg[1] the same way.
local dump_env = T.write_file(T.tmpname('.lua'), [[
local t = {}
for k, v in pairs(require'proc'.env()) do
  t[#t + 1] = ('[%q]=%q'):format(k, v)
end
local f = assert(io.open(arg[1], 'wb'))
f:write('return {', table.concat(t, ','), '}')
f:close()
]])

local function load_result(path)
  return assert(loadfile(path))()
end

local function run(opts)
  local p = assert(proc.exec(opts))
  assert(p:wait() == 0, 'child failed')
end

local function args_seen(args)
  local out = T.tmpname('.out')
  local argv = {dump_args, out}
  for _, a in ipairs(args) do argv[#argv + 1] = a end
  run{cmd = T.procrun, args = argv}
  return load_result(out)
end

local function env_seen(opts)
  local out = T.tmpname('.out')
  opts.cmd = T.procrun
  opts.args = {dump_env, out}
  run(opts)
  return load_result(out)
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

T.test('exec returns a process whose id is a positive pid', function()
  local p = assert(proc.exec(T.procrun, {'-e', ''}))
  assert(type(p.id) == 'number' and p.id > 0, tostring(p.id))
  assert(p:wait() == 0)
  assert(tostring(p) == 'process ' .. p.id, tostring(p))
end)

T.test('exit codes 0, 1 and 255 come back from wait', function()
  for _, code in ipairs{0, 1, 255} do
    local p = assert(proc.exec(T.procrun, {'-e', 'os.exit(' .. code .. ')'}))
    local got = p:wait()
    assert(got == code, ('exit %d, got %s'):format(code, tostring(got)))
    assert(p:exit_code() == code)
    assert(p:status() == 'finished')
  end
end)

T.test('args reach the child verbatim, never split or expanded', function()
  local args = {'two words', "it's", 'say "hi"', '', 'héllo wörld ✓',
                '-e', '--flag=x', '$(echo no)', '`echo no`', 'a;b', '*',
                'line\nbreak', ' \t ', '\\', '%s'}
  local seen = args_seen(args)
  assert(#seen == #args, ('%d args, saw %d'):format(#args, #seen))
  for i, a in ipairs(args) do
    assert(seen[i] == a, ('arg %d: %q became %q'):format(i, a, seen[i]))
  end
end)

T.test('numbers in args are converted to strings', function()
  local seen = args_seen{1, 2.5, -3}
  assert(seen[1] == '1' and seen[2] == '2.5' and seen[3] == '-3',
    table.concat(seen, ' '))
end)

T.test('the positional form takes cmd, args, env and dir', function()
  local dir = T.tmpname('.d')
  assert(os.execute('mkdir ' .. T.sh_quote(dir)) == 0)
  local p = assert(proc.exec(T.procrun, {'-e', [[
    assert(os.getenv('ONLY') == 'this')
    io.open('here.txt', 'w'):close()]]}, {ONLY = 'this'}, dir))
  assert(p:wait() == 0)
  assert(io.open(dir .. '/here.txt')):close()
end)

T.test('a cmd array gives the program and its first args', function()
  local out = T.tmpname('.out')
  run{cmd = {T.procrun, dump_args, out, 'a'}, args = {'b'}}
  local seen = load_result(out)
  assert(#seen == 2 and seen[1] == 'a' and seen[2] == 'b')
end)

T.test('a bare cmd is found in PATH', function()
  local p = assert(proc.exec('sh', {'-c', 'exit 3'}))
  assert(p:wait() == 3)
end)

T.test('a bare cmd is searched in the PATH given in env', function()
  local bin = T.tmpname('.bin')
  assert(os.execute('mkdir ' .. T.sh_quote(bin)) == 0)
  local tool = T.write_file(bin .. '/procrun-test-tool', '#!/bin/sh\nexit 42\n')
  assert(os.execute('chmod +x ' .. T.sh_quote(tool)) == 0)
  local p = assert(proc.exec{cmd = 'procrun-test-tool', env = {PATH = bin}})
  assert(p:wait() == 42)
  p = assert(proc.exec{cmd = 'procrun-test-tool',
                       setenv = {PATH = bin .. ':/usr/bin:/bin'}})
  assert(p:wait() == 42)
  local none, msg, code = proc.exec('procrun-test-tool')
  assert(none == nil and code == 'ENOENT', msg)
end)

T.test('a relative cmd with a slash is resolved inside dir', function()
  local dir = T.tmpname('.d')
  assert(os.execute('mkdir -p ' .. T.sh_quote(dir .. '/sub')) == 0)
  local tool = T.write_file(dir .. '/sub/tool', '#!/bin/sh\nexit 7\n')
  assert(os.execute('chmod +x ' .. T.sh_quote(tool)) == 0)
  local p = assert(proc.exec{cmd = './sub/tool', dir = dir})
  assert(p:wait() == 7)
end)

T.test('dir sets the working directory of the child', function()
  local dir = T.tmpname('.d')
  assert(os.execute('mkdir ' .. T.sh_quote(dir)) == 0)
  run{cmd = T.procrun, args = {'-e', 'io.open("made.txt", "w"):close()'},
      dir = dir}
  assert(io.open(dir .. '/made.txt')):close()
end)

T.test('env replaces the whole environment', function()
  local seen = env_seen{env = {A = '1', B = 'two words', N = 5}}
  assert(count(seen) == 3, 'extra variables in the child')
  assert(seen.A == '1' and seen.B == 'two words' and seen.N == '5')
end)

T.test('an empty env gives the child no variables at all', function()
  local seen = env_seen{env = {}}
  assert(next(seen) == nil, 'child saw ' .. tostring(next(seen)))
end)

T.test('setenv sets and removes over the inherited environment', function()
  assert(proc.env('PATH'), 'PATH must be set for this test')
  local seen = env_seen{setenv = {PROCRUN_T_NEW = 'x y', PATH = false,
                                  HOME = '/elsewhere'}}
  assert(seen.PROCRUN_T_NEW == 'x y')
  assert(seen.PATH == nil, 'PATH not removed')
  assert(seen.HOME == '/elsewhere')
  for k, v in pairs(proc.env()) do
    if k ~= 'PATH' and k ~= 'HOME' then
      assert(seen[k] == v, k .. ' not inherited')
    end
  end
end)

T.test('without env the child inherits proc.setenv changes', function()
  proc.setenv('PROCRUN_T_SET', 'inherited')
  local seen = env_seen{}
  proc.setenv('PROCRUN_T_SET')
  assert(seen.PROCRUN_T_SET == 'inherited')
end)

T.done()
