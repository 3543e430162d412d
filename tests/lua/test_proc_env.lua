-- proc.env and proc.setenv: this process's environment.
local T = require'testlib'
local proc = require'proc'

assert(proc.exec('true')):wait()
T.watch_leaks()

T.test('env(name) returns a value or nil', function()
  assert(proc.env('PATH') == os.getenv('PATH'))
  assert(proc.env('PROCRUN_T_SURELY_UNSET') == nil)
end)

T.test('env() returns every variable', function()
  local all = proc.env()
  assert(type(all) == 'table')
  assert(all.PATH == os.getenv('PATH'))
  for k, v in pairs(all) do
    assert(os.getenv(k) == v, k)
  end
end)

T.test('setenv changes what os.getenv and env see', function()
  assert(proc.setenv('PROCRUN_T_VAR', 'a value=with equals') == true)
  assert(os.getenv('PROCRUN_T_VAR') == 'a value=with equals')
  assert(proc.env('PROCRUN_T_VAR') == 'a value=with equals')
  assert(proc.env().PROCRUN_T_VAR == 'a value=with equals')
  assert(proc.setenv('PROCRUN_T_VAR', 12) == true)
  assert(os.getenv('PROCRUN_T_VAR') == '12')
  assert(proc.setenv('PROCRUN_T_VAR', '') == true)
  assert(proc.env('PROCRUN_T_VAR') == '')
end)

T.test('setenv without a value deletes the variable', function()
  proc.setenv('PROCRUN_T_VAR', 'x')
  assert(proc.setenv('PROCRUN_T_VAR') == true)
  assert(os.getenv('PROCRUN_T_VAR') == nil)
  assert(proc.env().PROCRUN_T_VAR == nil)
  proc.setenv('PROCRUN_T_VAR', 'x')
  assert(proc.setenv('PROCRUN_T_VAR', false) == true)
  assert(os.getenv('PROCRUN_T_VAR') == nil)
end)

T.test('a long value survives the round trip', function()
  local long = ('0123456789'):rep(1000)
  proc.setenv('PROCRUN_T_LONG', long)
  assert(proc.env('PROCRUN_T_LONG') == long)
  proc.setenv('PROCRUN_T_LONG')
end)

T.test('children see setenv changes', function()
  proc.setenv('PROCRUN_T_CHILD', 'seen')
  local p = assert(proc.exec(T.procrun,
    {'-e', 'os.exit(os.getenv("PROCRUN_T_CHILD") == "seen" and 0 or 1)'}))
  proc.setenv('PROCRUN_T_CHILD')
  assert(p:wait() == 0)
end)

-- Each call is made from Lua code so that the error names the function.
T.test('bad names and values raise', function()
  T.check_error("bad argument #1 to 'env' (bad variable name '')",
    function() local v = proc.env('') return v end)
  T.check_error("bad argument #1 to 'env' (bad variable name 'A=B')",
    function() local v = proc.env('A=B') return v end)
  T.check_error("bad argument #1 to 'setenv' (bad variable name 'A=B')",
    function() local v = proc.setenv('A=B', 'x') return v end)
  T.check_error("bad argument #1 to 'setenv' (bad variable name 'A')",
    function() local v = proc.setenv('A\0B', 'x') return v end)
  T.check_error("bad argument #2 to 'setenv' (value contains a NUL byte)",
    function() local v = proc.setenv('PROCRUN_T_VAR', 'x\0y') return v end)
  T.check_error("bad argument #1 to 'setenv' (string expected, got no value)",
    function() local v = proc.setenv() return v end)
  T.check_error("bad argument #2 to 'setenv' (string expected, got table)",
    function() local v = proc.setenv('PROCRUN_T_VAR', {}) return v end)
  assert(os.getenv('PROCRUN_T_VAR') == nil, 'a failed call changed env')
end)

T.done()
