-- procrun --bundle: building single-file apps, running them, and what a
-- damaged one does.
local T = require'testlib'
local q, sh = T.sh_quote, T.sh

local function write(path, text)
  os.execute('mkdir -p ' .. q(path:match('^(.*)/')))
  return T.write_file(path, text)
end

local function slurp(path)
  local f = io.open(path, 'rb')
  if not f then return nil end
  local s = f:read('*a')
  f:close()
  return s
end

-- A fresh app directory holding files = {path = text}.
local function app(files)
  local dir = T.tmpname('.app')
  for path, text in pairs(files) do write(dir .. '/' .. path, text) end
  return dir
end

-- Runs procrun --bundle with the words given, from dir.
local function bundle(dir, words)
  local cmd = {'cd', q(dir), '&&', q(T.procrun), '--bundle'}
  for _, w in ipairs(words) do cmd[#cmd + 1] = q(w) end
  return sh(table.concat(cmd, ' '))
end

-- Runs an executable with args (plain strings) from dir, with a prefix
-- of shell assignments if given.
local function run_in(dir, exe, args, prefix)
  local cmd = {'cd', q(dir), '&&', prefix or '', q(exe)}
  for _, a in ipairs(args or {}) do cmd[#cmd + 1] = q(a) end
  return sh(table.concat(cmd, ' '))
end

local function ls(dir)
  local out = sh('ls -A ' .. q(dir))
  return out
end

local main_src = [[
local util = require'mod.util'
local m = require'mod'
local bundle = require'proc'.bundle
local t = {}
for i = 0, #arg do t[#t + 1] = arg[i] end
print('arg', table.concat(t, '|'), arg[-1])
print('dots', select('#', ...), table.concat({...}, '|'))
print('modules', util.name, m.name)
print('data', bundle.read('assets/a.txt'), #bundle.read('assets/sub/b.bin'))
print('list', table.concat(bundle.list(), ' '))
print('path', bundle.path)
]]

local function sample_app()
  return app{
    ['main.lua'] = '#!/usr/bin/env procrun\n' .. main_src,
    ['mod/util.lua'] = 'return {name = "util"}',
    ['mod/init.lua'] = 'return {name = "init"}',
    ['assets/a.txt'] = 'hello',
    ['assets/sub/b.bin'] = 'a\0b\255',
    ['.hidden/x.lua'] = 'error("dot-files stay out")',
  }
end

local built = {}
-- The sample app bundled once (per strip flag) as dir/OUT.
local function sample_out(strip)
  local key = strip and 'strip' or 'plain'
  if not built[key] then
    local dir = sample_app()
    local words = {'-o', 'out', 'main.lua', 'mod', 'assets', '.hidden'}
    if strip then table.insert(words, 1, '--strip') end
    local _, err, code = bundle(dir, words)
    assert(code == 0, err)
    assert(err == '', err)
    built[key] = {dir = dir, out = dir .. '/out'}
  end
  return built[key].out, built[key].dir
end

T.test('a bundle runs its entry with modules and data', function()
  local out, dir = sample_out()
  local stdout, err, code = run_in(dir, './out', {'a b', ''})
  assert(code == 0, err)
  local want = 'arg\t./out|a b|\tnil\n' ..
    'dots\t2\ta b|\n' ..
    'modules\tutil\tinit\n' ..
    'data\thello\t4\n' ..
    'list\tassets/a.txt assets/sub/b.bin\n' ..
    'path\t' .. out .. '\n'
  assert(stdout == want, stdout)
end)

T.test('a bundle hands flags in its arguments to the app untouched',
function()
  local _, dir = sample_out()
  local args = {'-e', 'os.exit(9)', '-v', '--', '--bundle', '-', '-h', '-i'}
  local stdout, err, code = run_in(dir, './out', args)
  assert(code == 0, err)
  assert(stdout:find('dots\t8\t-e|os.exit(9)|-v|--|--bundle|-|-h|-i\n', 1,
    true), stdout)
end)

T.test('bundled data keeps every byte and a missing file is ENOENT',
function()
  local out = sample_out()
  local stdout, err, code = sh(('PROCRUN_PLAIN=1 %s -e %s'):format(q(out), q[[
    local b = require'proc'.bundle
    assert(b.read('assets/sub/b.bin') == 'a\0b\255')
    local s, msg, ecode = b.read('nope.txt')
    assert(s == nil and ecode == 'ENOENT', msg)
    assert(msg == "bundle.read 'nope.txt': ENOENT: no such file in the " ..
      "bundle", msg)
    assert(b.read('mod/util.lua') == nil, 'modules are not data')
    local ok, e = pcall(b.read, {})
    assert(not ok and e:find("bad argument #1 to 'read'", 1, true), e)
    io.write('ok')
  ]]))
  assert(code == 0 and stdout == 'ok', err)
end)

T.test('a plain procrun has no bundle data', function()
  local stdout, err, code = T.run{'-e', [[
    local b = require'proc'.bundle
    assert(b.path == nil and #b.list() == 0)
    assert(select(3, b.read('x')) == 'ENOENT')
    io.write('ok')]]}
  assert(code == 0 and stdout == 'ok', err)
end)

T.test('bundled modules win over files, from any directory', function()
  local out = sample_out()
  local elsewhere = app{['mod/util.lua'] = 'return {name = "on disk"}',
                        ['mod/init.lua'] = 'return {name = "on disk"}'}
  local stdout, err, code = run_in(elsewhere, out, {'x'})
  assert(code == 0, err)
  assert(stdout:find('modules\tutil\tinit\n', 1, true), stdout)
  stdout, err, code = run_in('/', out, {'x'})
  assert(code == 0 and stdout:find('modules\tutil\tinit\n', 1, true), err)
end)

T.test('a bundle runs through a symlink with arg[0] as invoked', function()
  local out = sample_out()
  local dir = T.tmpname('.links')
  os.execute(('mkdir %s && ln -s %s %s/app'):format(q(dir), q(out), q(dir)))
  local stdout, err, code = run_in('/', dir .. '/app', {'1'})
  assert(code == 0, err)
  assert(stdout:find('arg\t' .. dir .. '/app|1\t', 1, true), stdout)
  assert(stdout:find('path\t' .. out .. '\n', 1, true), stdout)
end)

T.test('a bundle found in PATH gets its own path as arg[0]', function()
  local out, dir = sample_out()
  local stdout, err, code = run_in('/', 'out', {'p'},
    'PATH=' .. q(dir) .. ':"$PATH"')
  assert(code == 0, err)
  assert(stdout:find('arg\t' .. out .. '|p\t', 1, true), stdout)
end)

T.test('--strip makes a smaller bundle that still runs', function()
  local plain, stripped = sample_out(), sample_out(true)
  local stdout, err, code = run_in('/', stripped, {'z'})
  assert(code == 0 and stdout:find('modules\tutil\tinit'), err)
  assert(#slurp(stripped) < #slurp(plain), 'strip saved nothing')
end)

T.test('an error in a bundled module names its path and line', function()
  local dir = app{['main.lua'] = 'require"lib.bad"',
                  ['lib/bad.lua'] = 'local x = 1\nerror("boom")\n'}
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', 'lib'})
  assert(code == 0, err)
  local stdout
  stdout, err, code = run_in('/', dir .. '/out')
  assert(code == 1 and stdout == '')
  assert(err:match('^procrun: lib/bad%.lua:2: boom\nstack traceback:\n'),
    err)
end)

T.test('a bundle is linked like procrun: no luajit or libuv', function()
  local stdout, err, code = sh('ldd ' .. q(sample_out()))
  assert(code == 0, err)
  assert(not stdout:find('luajit') and not stdout:find('libuv'), stdout)
end)

-- exec_luafile inside a bundle. The entry counts its runs in a file, so
-- a child that re-ran it would show.
local function spawning_app()
  local dir = app{
    ['main.lua'] = [[
      local proc = require'proc'
      local f = io.open(arg[1] .. '/runs', 'ab') f:write('main\n') f:close()
      local mode = arg[2]
      if mode == 'disk' then
        local p = assert(proc.exec_luafile(arg[1] .. '/disk.lua',
                                           {arg[1], 'x'}))
        os.exit(p:wait())
      elseif mode == 'autokill' then  -- goes through the launcher
        local p = assert(proc.exec_luafile{script = arg[1] .. '/disk.lua',
          args = {arg[1], 'x'}, autokill = true})
        os.exit(p:wait())
      elseif mode == 'module' then
        local p = assert(proc.exec_luafile{module = 'jobs.worker',
          args = {arg[1], '-v', '--'}, env = {PATH = os.getenv('PATH')}})
        os.exit(p:wait())
      end
    ]],
    ['jobs/worker.lua'] = [[
      local proc = require'proc'
      local dir = ...
      local f = io.open(dir .. '/runs', 'ab')
      f:write('worker ', arg[0], ' ', table.concat({...}, ' ', 2), ' ',
              tostring(os.getenv('PROCRUN_PLAIN')), '\n')
      f:close()
      if select('#', ...) < 4 then  -- one more level: a grandchild
        local p = assert(proc.exec_luafile{module = 'jobs.worker',
          args = {dir, 'deeper', 'again', 'x'}})
        os.exit(p:wait() + 10)
      end
      os.exit(7)
    ]],
    ['jobs/util.lua'] = 'return {tag = "bundled util"}',
  }
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', 'jobs'})
  assert(code == 0, err)
  -- It also tells its parent-death signal: 9 only if autokill set it.
  T.write_file(dir .. '/disk.lua', [[
    local dir = ...
    local ffi = require'ffi'
    ffi.cdef'int prctl(int option, ...);'
    local sig = ffi.new('int[1]')
    assert(ffi.C.prctl(2 --[=[PR_GET_PDEATHSIG]=], sig) == 0)
    local f = io.open(dir .. '/runs', 'ab')
    f:write('disk ', arg[0], ' ', table.concat({...}, ' ', 2), ' ',
            tostring(os.getenv('PROCRUN_PLAIN')), ' ',
            require'jobs.util'.tag, ' ', sig[0], '\n')
    f:close()
    os.exit(5)
  ]])
  return dir
end

-- Runs spawning_app's bundle from / in mode, expecting exit code want;
-- returns what its processes logged, and the app's directory.
local function app_runs(mode, want)
  local dir = spawning_app()
  local _, err, code = run_in('/', dir .. '/out', {dir, mode})
  assert(code == want, err)
  return slurp(dir .. '/runs'), dir
end

T.test('exec_luafile in a bundle runs a script on disk, not the app',
function()
  local runs, dir = app_runs('disk', 5)
  assert(runs == 'main\ndisk ' .. dir .. '/disk.lua x nil bundled util 0\n',
    runs)
end)

T.test('exec_luafile with autokill in a bundle runs the script on disk',
function()
  local runs, dir = app_runs('autokill', 5)
  assert(runs == 'main\ndisk ' .. dir .. '/disk.lua x nil bundled util 9\n',
    runs)
end)

T.test('exec_luafile{module=} runs a bundled module, nested too',
function()
  local runs = app_runs('module', 17)
  assert(runs == 'main\nworker jobs.worker -v -- nil\n' ..
    'worker jobs.worker deeper again x nil\n', runs)
end)

T.test('exec_luafile takes script or module, not both', function()
  local proc = require'proc'
  T.check_error("options 'script' and 'module' exclude each other",
    proc.exec_luafile, {script = 'a.lua', module = 'a'})
  T.check_error("field 'module': empty module name",
    proc.exec_luafile, {module = ''})
  T.check_error("field 'module': string expected, got number",
    proc.exec_luafile, {module = 1})
end)

T.test('exec_luafile{module=} of a missing module exits 1 saying so',
function()
  local stdout, err, code = T.run{'-e', [[
    local proc = require'proc'
    os.exit(assert(proc.exec_luafile{module = 'no.such.mod'}):wait())]]}
  assert(code == 1 and stdout == '', err)
  assert(err:find("procrun: module 'no.such.mod' not found:", 1, true),
    err)
end)

T.test('-m runs a module found on package.path as the script', function()
  local dir = app{['pkg/tool.lua'] = 'print(arg[0], ...)'}
  local stdout, err, code = run_in(dir, T.procrun, {'-m', 'pkg.tool', '-v'})
  assert(code == 0 and stdout == 'pkg.tool\t-v\n', err)
end)

T.test('LUA_INIT and LUA_PATH apply to a bundle, bundled modules first',
function()
  local dir = app{['main.lua'] = [[
    print(init, package.path:match('^[^;]*'), require'mod.b'.name,
          require'disk_only'.name)]],
                  ['mod/b.lua'] = 'return {name = "bundled"}'}
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', 'mod'})
  assert(code == 0, err)
  local disk = app{['mod/b.lua'] = 'return {name = "disk"}',
                   ['disk_only.lua'] = 'return {name = "disk only"}',
                   ['init.lua'] = 'init = "from file"'}
  local path = disk .. '/?.lua'
  for init, want in pairs{['init = "chunk"'] = 'chunk',
                          ['@' .. disk .. '/init.lua'] = 'from file'} do
    local stdout
    stdout, err, code = run_in('/', dir .. '/out', {}, ('LUA_INIT=%s ' ..
      'LUA_PATH=%s'):format(q(init), q(path .. ';;')))
    assert(code == 0, err)
    assert(stdout == want .. '\t' .. path .. '\tbundled\tdisk only\n',
      stdout)
  end
end)

-- Why the size of a bundle made by this procrun says nothing about a
-- release build's, or nil.
local function not_release()
  local cache = slurp(T.procrun:match('^(.*)/') .. '/CMakeCache.txt') or ''
  if cache:find('PROCRUN_SANITIZE:BOOL=ON', 1, true) or
     slurp(T.procrun):find('__asan_init', 1, true) then
    return 'procrun is a sanitizer build'
  end
  local kind = cache:match('\nCMAKE_BUILD_TYPE:STRING=(%w*)')
  if kind and kind ~= '' and kind ~= 'Release' and kind ~= 'MinSizeRel' then
    return 'procrun is a ' .. kind .. ' build'
  end
end

T.test('a hello-world bundle is at most 1.5 MiB', function()
  local dir = app{['main.lua'] = 'print("hello")'}
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua'})
  assert(code == 0, err)
  local stdout
  stdout, err, code = run_in('/', dir .. '/out')
  assert(code == 0 and stdout == 'hello\n', err)
  local why = not_release()
  if why then
    io.stderr:write('SKIP: hello-world bundle size: ', why, '\n')
    return
  end
  local size = #slurp(dir .. '/out')
  assert(size <= 1572864, size .. ' bytes')
end)

T.test("the launcher's marker as first argument reaches the app",
function()
  -- procrun's internal launcher takes this argv[1] only with its report
  -- pipe as fd 3; here fd 3 is closed, a file or read-only.
  local marker = '\1procrun-launch'
  local dir = app{['main.lua'] = 'io.write(arg[1], "|", ...)'}
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua'})
  assert(code == 0, err)
  for _, fd3 in ipairs{'3>&-', '3>&1', '3</dev/null'} do
    local stdout
    stdout, err, code = sh(('%s %s x %s'):format(q(dir .. '/out'),
      q(marker), fd3))
    assert(code == 0 and stdout == marker .. '|' .. marker .. 'x', fd3 ..
      ': exit ' .. code .. ' ' .. err)
  end
end)

T.test('PROCRUN_PLAIN=1 makes a bundle act as plain procrun', function()
  local out = sample_out()
  local stdout, err, code = sh(('PROCRUN_PLAIN=1 %s -e %s a'):format(q(out),
    q'print(require"mod.util".name, os.getenv("PROCRUN_PLAIN"), arg[0])'))
  assert(code == 1, 'a is no script, so plain procrun fails: ' .. stdout)
  stdout, err, code = sh(('PROCRUN_PLAIN=1 %s -e %s'):format(q(out),
    q'print(require"mod.util".name, os.getenv("PROCRUN_PLAIN"))'))
  assert(code == 0 and stdout == 'util\tnil\n', err)
end)

T.test('bundling from a bundle is refused', function()
  local out, dir = sample_out()
  local stdout, err, code = run_in(dir, out,
    {'--bundle', '-o', 'again', 'main.lua'}, 'PROCRUN_PLAIN=1')
  assert(code == 1 and stdout == '')
  assert(err == "procrun: bundle 'again': this executable is a bundle " ..
    "itself; bundle with procrun\n", err)
  assert(not slurp(dir .. '/again'))
end)

-- Damaged copies of the sample bundle.
local function damaged(name, edit)
  local bytes = slurp(sample_out())
  local path = T.tmpname(name)
  T.write_file(path, edit(bytes))
  os.execute('chmod +x ' .. q(path))
  return path
end

local function check_damage(path, text)
  local stdout, err, code = run_in('/', path, {'x'})
  assert(code == 1 and stdout == '', 'exit ' .. code)
  local want = ("procrun: bundle '%s': %s"):format(path, text)
  assert(err:sub(1, #want) == want and not err:find('\n.'), err)
end

-- The little-endian number of `width` bytes at s[at..].
local function get_le(s, at, width)
  local v = 0
  for i = at + width - 1, at, -1 do v = v * 256 + s:byte(i) end
  return v
end

local function set_le(s, at, width, v)
  local bytes = {}
  for i = 1, width do
    bytes[i] = string.char(v % 256)
    v = math.floor(v / 256)
  end
  return s:sub(1, at - 1) .. table.concat(bytes) .. s:sub(at + width)
end

-- Cuts stay within the payload and trailer: a cut into the executable
-- part can crash before main, where nothing can catch it.
T.test('a truncated bundle exits 1 with a clear message', function()
  local tail = get_le(slurp(sample_out()), #slurp(sample_out()) - 39, 8) + 40
  assert(tail > 300 and tail < #slurp(sample_out()) / 2, tail)
  for _, cut in ipairs{1, 39, 40, 41, 300, tail - 1, tail} do
    local path = damaged('.cut', function(s) return s:sub(1, -cut - 1) end)
    check_damage(path, 'truncated or extended: the file has')
  end
  local path = damaged('.long', function(s) return s .. 'x' end)
  check_damage(path, 'truncated or extended: the file has')
end)

T.test('a bundle with a wrong size in its stamp or trailer exits 1',
function()
  local function stamp_at(s)
    return assert(s:find('procrun-stamp-v1', 1, true)) + 16
  end
  local function edit_stamp(field, fn)
    return function(s)
      local at = stamp_at(s) + field
      return set_le(s, at, 8, fn(get_le(s, at, 8), #s))
    end
  end
  local function edit_trailer(from_end, width, v)
    return function(s) return set_le(s, #s - from_end, width, v) end
  end
  local cases = {
    {edit_stamp(8, function(v) return v + 1 end),
     'truncated or extended: the file has'},
    {edit_stamp(0, function(_, n) return n + 5 end), 'bad stamp'},
    {edit_stamp(0, function(v) return v - 1 end),
     'truncated or extended: the trailer gives'},
    {edit_trailer(39, 8, 2^40), 'truncated or extended: the trailer gives'},
    {edit_trailer(31, 8, 12345), 'the trailer and the stamp disagree'},
    {edit_trailer(23, 4, 2^32 - 1), 'entry count larger than the payload'},
  }
  for i, c in ipairs(cases) do
    check_damage(damaged('.size' .. i, c[1]), c[2])
  end
end)

T.test('a corrupted bundle exits 1 with a clear message', function()
  local flip = function(s, i)
    return s:sub(1, i - 1) .. string.char((s:byte(i) + 1) % 256) ..
      s:sub(i + 1)
  end
  local path = damaged('.sum', function(s) return flip(s, #s - 60) end)
  check_damage(path, 'checksum mismatch (the file is damaged)')
  path = damaged('.magic', function(s) return flip(s, #s) end)
  check_damage(path, 'no bundle trailer (bad magic)')
  path = damaged('.version', function(s) return flip(s, #s - 19) end)
  check_damage(path, 'format version 2 is not supported')
end)

T.test('a missing file fails the build and leaves no OUT', function()
  local dir = sample_app()
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', 'nope.lua'})
  assert(code == 1)
  assert(err == ("procrun: bundle 'out': stat '%s/nope.lua': ENOENT: " ..
    'no such file or directory\n'):format(dir), err)
  assert(not ls(dir):find('out') and not ls(dir):find('procrun'), ls(dir))
end)

T.test('a syntax error fails the build naming file and line', function()
  local dir = app{['main.lua'] = 'print(1)',
                  ['lib/bad.lua'] = 'local x = 1\nx = = 2\n'}
  T.write_file(dir .. '/out', 'old')
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', 'lib'})
  assert(code == 1)
  assert(err:match("^procrun: bundle 'out': lib/bad%.lua:2: "), err)
  assert(slurp(dir .. '/out') == 'old', 'OUT was replaced')
  assert(ls(dir) == 'lib\nmain.lua\nout\n', ls(dir))
end)

T.test('files outside the entry directory are refused', function()
  local dir = sample_app()
  local other = T.write_file(T.tmpname('.lua'), 'return 1')
  local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', other})
  assert(code == 1)
  assert(err:find("is outside the entry script's directory", 1, true), err)
  assert(not slurp(dir .. '/out'))
end)

-- Builds with OUT naming an input: refused, and the input keeps its
-- bytes.
local function check_out_refused(dir, words, input, named)
  local before = slurp(dir .. '/' .. input)
  local stdout, err, code = bundle(dir, words)
  assert(code == 1 and stdout == '', 'exit ' .. code)
  local want = ("procrun: bundle '%s': OUT is the input '%s' (it would " ..
    "be overwritten)\n"):format(words[2], named)
  assert(err == want, err)
  assert(slurp(dir .. '/' .. input) == before, input .. ' was changed')
  assert(not ls(dir):find('procrun'), 'a temporary file is left')
end

T.test('OUT naming the entry or an input file is refused', function()
  local dir = app{['main.lua'] = 'require"lib"', ['lib.lua'] = 'return 1',
                  ['data/x.txt'] = 'keep me'}
  check_out_refused(dir, {'-o', 'main.lua', 'main.lua'}, 'main.lua',
    'main.lua')
  check_out_refused(dir, {'-o', 'lib.lua', 'main.lua', 'lib.lua'},
    'lib.lua', 'lib.lua')
  check_out_refused(dir, {'-o', 'data/x.txt', 'main.lua', 'data'},
    'data/x.txt', dir .. '/data/x.txt')
  os.execute(('ln %s/lib.lua %s/hard.lua'):format(q(dir), q(dir)))
  check_out_refused(dir, {'-o', 'hard.lua', 'main.lua', 'lib.lua'},
    'lib.lua', 'lib.lua')
end)

T.test('a rebuild leaves the earlier bundle at OUT out of a walk',
function()
  local dir = app{['main.lua'] = [[
    print(table.concat(require'proc'.bundle.list(), ' '))]],
                  ['a.txt'] = 'a'}
  for _ = 1, 2 do
    local _, err, code = bundle(dir, {'-o', 'out', 'main.lua', '.'})
    assert(code == 0 and err == '', err)
  end
  local stdout, err, code = run_in('/', dir .. '/out')
  assert(code == 0 and stdout == 'a.txt\n', err .. stdout)
end)

T.test('--bundle usage errors print the usage text', function()
  local stdout, err, code = T.run{'--bundle', 'main.lua'}
  assert(code == 1 and stdout == '')
  assert(err:match("^procrun: '%-%-bundle' needs '%-o OUT'\nusage: "), err)
end)

T.done()
