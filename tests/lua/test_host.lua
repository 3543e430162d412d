-- The command line: procrun behaves as luajit does, plus -h and -v.
local T = require'testlib'
local run, sh, q = T.run, T.sh, T.sh_quote

local function script(text)
  return T.write_file(T.tmpname('.lua'), text)
end

T.test('-v prints the versions of procrun, luajit and libuv', function()
  local out, err, code = run{'-v'}
  assert(code == 0, err)
  assert(out:match('^procrun %d+%.%d+%.%d+ %-%- LuaJIT 2%.%d[^\n]* %-%- ' ..
    'libuv %d+%.%d+%.%d+\n$'), out)
end)

T.test('the arg table and ... are set as luajit sets them', function()
  local s = script[[
    local t = {}
    for i = -3, #arg do t[#t + 1] = i .. '=' .. tostring(arg[i]) end
    print(table.concat(t, ' '))
    print(select('#', ...), ...)
  ]]
  local out, err, code = run{'-e', 'x=1', s, 'a', '-e', ''}
  assert(code == 0, err)
  local want = ('-3=%s -2=-e -1=x=1 0=%s 1=a 2=-e 3=\n3\ta\t-e\t\n')
    :format(T.procrun, s)
  assert(out == want, out)
end)

T.test('without a script, argv sits at negative indices', function()
  local out = run{'-e', 'print(arg[0], arg[-1], arg[-3] ~= nil)'}
  assert(out == 'nil\tprint(arg[0], arg[-1], arg[-3] ~= nil)\ttrue\n',
    out)
end)

T.test('-e and -l run in command-line order before the script', function()
  T.write_file(T.tmpdir() .. '/order_mod.lua',
    'io.write("mod ") return {}')
  local s = script('io.write("script\\n")')
  local out, err, code = sh(('cd %s && %s -e %s -l order_mod -e %s %s')
    :format(q(T.tmpdir()), q(T.procrun), q'io.write"e1 "', q'io.write"e2 "',
            q(s)))
  assert(code == 0, err)
  assert(out == 'e1 mod e2 script\n', out)
end)

T.test('a shebang script runs through env', function()
  local dir = T.tmpdir()
  os.execute(('ln -sf %s %s/procrun'):format(q(T.procrun), q(dir)))
  local s = script('#!/usr/bin/env procrun\nprint("hi", ...)\n')
  os.execute('chmod +x ' .. q(s))
  local out, err, code = sh(('PATH=%s:$PATH %s x y'):format(q(dir), q(s)))
  assert(code == 0, err)
  assert(out == 'hi\tx\ty\n', out)
end)

T.test('an uncaught error prints procrun: message and a traceback',
function()
  local out, err, code = run{'-e', 'local function f() error("boom") end f()'}
  assert(code == 1, code)
  assert(out == '')
  assert(err:match('^procrun: %(command line%):1: boom\nstack traceback:\n'),
    err)
  assert(err:find('in function \'f\'', 1, true) or err:find('in local \'f\''),
    err)
end)

T.test('a syntax error in the script exits 1 naming file and line',
function()
  local s = script('x = 1\ny = = 2\n')
  local _, err, code = run{s}
  assert(code == 1)
  assert(err:find('procrun: ' .. s .. ':2:', 1, true), err)
end)

T.test('non-string errors report as luajit does', function()
  local _, err, code = run{'-e', 'error({})'}
  assert(code == 1 and err == 'procrun: (error object is not a string)\n',
    err)
  _, err, code = run{'-e', 'error(setmetatable({}, {__tostring = ' ..
    'function() return "custom" end}))'}
  assert(code == 1 and err:match('^procrun: custom\n'), err)
  _, err, code = run{'-e', 'error()'}
  assert(code == 1 and err == '', err)
end)

T.test('os.exit passes numbers and booleans through', function()
  for _, c in ipairs{ {'os.exit(3)', 3}, {'os.exit(255)', 255},
                      {'os.exit(true)', 0}, {'os.exit(false)', 1},
                      {'os.exit()', 0} } do
    local _, _, code = run{'-e', c[1]}
    assert(code == c[2], c[1] .. ' gave ' .. code)
  end
end)

T.test('a missing script exits 1 with a clear message', function()
  local _, err, code = run{'/nonexistent/x.lua'}
  assert(code == 1)
  assert(err == 'procrun: cannot open /nonexistent/x.lua: ' ..
    'No such file or directory\n' or
    err:match('^procrun: cannot open /nonexistent/x%.lua'), err)
end)

T.test('stdin runs as the script when it is not a terminal', function()
  local out, _, code = run({}, 'print("from stdin", ...)')
  assert(code == 0 and out == 'from stdin\n', out)
  out, _, code = run({'-', 'a', 'b'}, 'print(arg[0], ...)')
  assert(code == 0 and out == '-\ta\tb\n', out)
end)

T.test('-- ends options and a dash after it names a file', function()
  local _, err, code = run({'--', '-'}, 'print(1)')
  assert(code == 1 and err:find('cannot open -', 1, true), err)
  local s = script('print(...)')
  local out = run{'--', s, '-v'}
  assert(out == '-v\n', out)
end)

T.test('-i reads a chunk at a time and prints results', function()
  local input = '=1+1\nx = 5\nreturn x * 2\nfunction f()\nreturn 7 end\n' ..
    '=f()\nerror("oops")\nprint("after")\n'
  local out, err, code = run({'-i'}, input)
  assert(code == 0, err)
  assert(out:match('^procrun [^\n]*\nJIT: [^\n]*\n'), out)
  assert(out:find('> 2\n> > 10\n> >> > 7\n> > after\n> \n$'), out)
  assert(err:match('^procrun: stdin:1: oops\n'), err)
end)

T.test('with no script and a terminal on stdin, the REPL starts',
function()
  -- script(1) gives procrun a pseudo-terminal; input echoes back on it.
  local out, err, code = T.sh(('script -qec %s /dev/null'):format(
    q(q(T.procrun))), 'print(6 * 7)\n')
  assert(code == 0, err)
  -- The terminal echoes the input line whenever it arrives: drop it.
  out = out:gsub('\r', ''):gsub('print%(6 %* 7%)\n', '')
  assert(out:find('^procrun %d[^\n]*\nJIT: ON[^\n]*\n> 42\n> \n$'), out)
end)

T.test('-i honours _PROMPT and _PROMPT2', function()
  local out = run({'-e', '_PROMPT="$ " _PROMPT2="+ "', '-i'},
    'do\nend\n')
  assert(out:sub(-8) == '\n$ + $ \n', out)
end)

T.test('-h prints usage on stdout and exits 0', function()
  local out, err, code = run{'-h'}
  assert(code == 0 and err == '')
  assert(out:match('^usage: procrun %[options%]'), out)
  assert(out:find('-e chunk', 1, true))
end)

T.test('a bad option prints an error and usage and exits 1', function()
  local out, err, code = run{'-x'}
  assert(code == 1 and out == '')
  assert(err:match("^procrun: unrecognized option '%-x'\nusage: procrun"),
    err)
  _, err, code = run{'-e'}
  assert(code == 1 and err:match("^procrun: '%-e' needs an argument\n"), err)
end)

T.test('LUA_INIT runs first, from a string or a @file', function()
  local out = sh(('LUA_INIT=%s %s -e %s'):format(q'x = 41', q(T.procrun),
    q'print(x + 1)'))
  assert(out == '42\n', out)
  local init = script('y = "file"')
  out = sh(('LUA_INIT=%s %s -e %s'):format(q('@' .. init), q(T.procrun),
    q'print(y)'))
  assert(out == 'file\n', out)
  local _, err, code = sh(('LUA_INIT=%s %s -e %s'):format(q'error("bad")',
    q(T.procrun), q'print(1)'))
  assert(code == 1 and err:match('^procrun: LUA_INIT:1: bad'), err)
end)

T.test('-E ignores LUA_INIT, LUA_PATH and LUA_CPATH', function()
  local code = 'print(x, package.path:find("/x/", 1, true), ' ..
    'package.cpath:find("/y/", 1, true))'
  local out = sh(('LUA_INIT=%s LUA_PATH=/x/?.lua LUA_CPATH=/y/?.so %s -E -e %s')
    :format(q'x = 1', q(T.procrun), q(code)))
  assert(out == 'nil\tnil\tnil\n', out)
end)

T.test('LUA_PATH and LUA_CPATH set the search paths, ;; adds defaults',
function()
  local out = sh(('LUA_PATH=%s LUA_CPATH=%s %s -e %s'):format(
    q'/x/?.lua;;', q'/y/?.so', q(T.procrun),
    q'print(package.path:match("^/x/%?%.lua;") ~= nil, package.cpath)'))
  assert(out:match('^true\t/y/%?%.so\n$'), out)
end)

T.test('ffi, bit and jit are available', function()
  local out, err = run{'-e', [[
    local ffi = require'ffi'
    ffi.cdef'int getpid(void);'
    print(ffi.C.getpid() > 0, bit.band(12, 10), jit.version:match'^LuaJIT')]]}
  assert(out == 'true\t8\tLuaJIT\n', err)
end)

T.test('a C module built for Lua 5.1 loads with require', function()
  local out, err, code = run{'-e', [[
    local cjson = require'cjson'
    local lpeg = require'lpeg'
    print(cjson.encode{1, 2}, lpeg.match(lpeg.R'az'^1, 'abc1'))]]}
  assert(code == 0, err)
  assert(out == '[1,2]\t4\n', out)
end)

T.test('built-in modules are found before the file system', function()
  -- Broken copies on both LUA_PATH forms and in the cwd: loading any of
  -- them would raise.
  local dir = T.tmpdir() .. '/shadow'
  os.execute('mkdir -p ' .. q(dir .. '/proc'))
  T.write_file(dir .. '/proc.lua', 'error("the proc.lua on disk ran")')
  T.write_file(dir .. '/proc/sched.lua', 'this is = not lua')
  for _, path in ipairs{'./?.lua;./?/init.lua', dir .. '/?.lua;;'} do
    local out, err, code = T.sh(('cd %s && LUA_PATH=%s %s -e %s'):format(
      q(dir), q(path), q(T.procrun), q[[
        local proc = require'proc'
        print(type(proc), type(require'proc.sched'))
        print(debug.getinfo(proc.esc, 'S').source)]]))
    assert(code == 0, path .. ': ' .. err)
    assert(out == 'table\ttable\n@[builtin]/proc.lua\n', out)
  end
end)

-- The path of a file of the source tree, from this test's directory.
local function source_file(rel)
  local here = debug.getinfo(1, 'S').source:match('^@(.*/)') or './'
  return here .. '../../' .. rel
end

T.test('built-in modules are embedded as bytecode, not source', function()
  local f = assert(io.open(T.procrun, 'rb'))
  local binary = f:read('*a')
  f:close()
  f = assert(io.open(source_file('lua/proc.lua'), 'rb'))
  local first, longest = f:read('*l'), ''
  for line in f:lines() do
    if #line > #longest then longest = line end
  end
  f:close()
  assert(binary:find("quote_arg", 1, true), 'no bytecode constants found')
  assert(#first > 20 and not binary:find(first, 1, true), first)
  assert(#longest > 40 and not binary:find(longest, 1, true), longest)
end)

T.test('the event loop and proc are set up only when first used',
function()
  local out, err, code = run{'-e', [[
    local ffi = require'ffi'
    ffi.cdef'long readlink(const char *path, char *buf, size_t size);'
    local function loop_fds()  -- epoll and eventfd descriptors
      local buf, kinds = ffi.new('char[64]'), {}
      for fd = 0, 1023 do
        local len = ffi.C.readlink('/proc/self/fd/' .. fd, buf, 64)
        local target = len > 0 and ffi.string(buf, len) or ''
        kinds[#kinds + 1] = target:match('^anon_inode:%[(event%a+)%]$')
      end
      return table.concat(kinds, ' ')
    end
    for name in pairs(package.loaded) do
      assert(not name:find('^proc'), name .. ' loaded at start-up')
    end
    io.write('[', loop_fds(), '] ')
    require'proc'.sleep(0.001)
    io.write('[', loop_fds(), ']\n')]]}
  assert(code == 0, err)
  assert(out:match('^%[%] %[.*eventpoll.*%]\n$'), out)
end)

T.test('procrun runs with stdin, stdout or stderr closed', function()
  -- libuv aborts if its epoll fd lands on 0, 1 or 2.
  local s = script[[
    local proc = require'proc'
    local p = assert(proc.exec(arg[1], {'-e', 'os.exit(3)'}))
    assert(p:wait() == 3)
    io.write('out') io.stderr:write('err')
  ]]
  for _, redirect in ipairs{'<&-', '>&-', '2>&-'} do
    local _, err, code = sh(('%s %s %s %s'):format(q(T.procrun), q(s),
      q(T.procrun), redirect))
    assert(code == 0, redirect .. ': exit ' .. code .. ' ' .. err)
  end
end)

T.test('-j and -O control the JIT as in luajit', function()
  local out = run{'-joff', '-e', 'print(jit.status())'}
  assert(out:match('^false\t'), out)
  out = run{'-O-fold', '-e', 'print(select(2, jit.status()))'}
  assert(not out:find('fold'), out)
  local _, err, code = run{'-jnosuch', '-e', ''}
  assert(code == 1 and err:find('unknown luaJIT command', 1, true), err)
end)

T.test('-b saves bytecode that procrun runs', function()
  local src = script('print("compiled", ...)')
  local obj = T.tmpname('.raw')
  local _, err, code = run{'-b', src, obj}
  assert(code == 0, err)
  local out = run{obj, 'z'}
  assert(out == 'compiled\tz\n', out)
end)

T.test('Ctrl-C interrupts a running script', function()
  -- sh starts background jobs with SIGINT ignored; procrun, like luajit,
  -- installs its own handler for the duration of each call. Compiled
  -- traces never run hooks, in luajit too, so the loop stays interpreted.
  local out = sh(('%s -e %s 2>&1 & pid=$!; sleep 0.5; kill -INT $pid; ' ..
    'wait $pid; echo "rc=$?"'):format(q(T.procrun), 
    q'jit.off() while true do end'))
  assert(out:match('^procrun: [^\n]*interrupted!\n.*rc=1\n$'), out)
end)

T.done()
