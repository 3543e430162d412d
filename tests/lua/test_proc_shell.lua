-- proc.shell, and quote_arg and esc checked against the real shell (unix)
-- and the documented command-line parsing rules (win).
local T = require'testlib'
local proc = require'proc'

assert(proc.exec('true')):wait()
T.watch_leaks()

local hostile = {
  '', 'plain', 'two words', "it's", "''", '"double"', '$(echo no)',
  '`echo no`', '$HOME', 'a;b', 'a&&b', 'a|b', '*', '?', '~', '#x',
  'line\nbreak', '\n', 'tab\there', '\\', 'back\\slash\\', '-n', '--x=y',
  '%s', '!', 'héllo ✓', '{a,b}', '(x)', '<in', '>out', "a'b\"c\\d$e`f",
}

local function slurp(path)
  local f = assert(io.open(path, 'rb'))
  local s = f:read('*a')
  f:close()
  return s
end

-- What the shell prints for one word of a command line.
local function through_shell(word)
  local out = T.tmpname('.out')
  local p = assert(proc.shell("printf '%s' " .. word .. ' > '
                              .. proc.quote_arg(out)))
  assert(p:wait() == 0, 'shell failed on ' .. word)
  return slurp(out)
end

T.test('shell runs the command line with /bin/sh', function()
  local p = assert(proc.shell('exit $((2 + 3))'))
  assert(p:wait() == 5)
end)

T.test('shell takes the options of exec', function()
  local dir = T.tmpname('.d')
  assert(os.execute('mkdir ' .. T.sh_quote(dir)) == 0)
  local p = assert(proc.shell('test "$PROCRUN_T" = yes && touch here',
                              {setenv = {PROCRUN_T = 'yes'}, dir = dir}))
  assert(p:wait() == 0)
  assert(io.open(dir .. '/here')):close()
  p = assert(proc.shell('test -z "$HOME"', {env = {}}))
  assert(p:wait() == 0)
end)

T.test('shell with a missing dir returns ENOENT', function()
  local p, msg, code = proc.shell('true', {dir = '/nope'})
  assert(p == nil and code == 'ENOENT')
  assert(msg == "shell 'true': dir '/nope': ENOENT: no such file or "
    .. 'directory', msg)
end)

T.test('shell rejects cmd and unknown options', function()
  T.check_error("bad argument #2 to 'shell' (unknown option 'cmd')",
    function() local p = proc.shell('true', {cmd = 'x'}) return p end)
  T.check_error("bad argument #1 to 'shell' (string expected, got table)",
    function() local p = proc.shell{} return p end)
end)

T.test('quote_arg round trips hostile strings through sh', function()
  for _, s in ipairs(hostile) do
    local got = through_shell(proc.quote_arg(s))
    assert(got == s, ('%q came back as %q'):format(s, got))
  end
end)

T.test('quote_arg leaves plain words alone', function()
  assert(proc.quote_arg('plain-word_1.2/x') == 'plain-word_1.2/x')
  assert(proc.quote_arg('two words') == "'two words'")
  assert(proc.quote_arg('') == "''")
  assert(proc.quote_arg(12) == '12')
end)

T.test('esc gives what goes between single quotes', function()
  for _, s in ipairs(hostile) do
    local got = through_shell("'" .. proc.esc(s) .. "'")
    assert(got == s, ('%q came back as %q'):format(s, got))
  end
end)

T.test('a NUL byte, a bad type or platform raises', function()
  T.check_error("bad argument #1 to 'quote_arg' (contains a NUL byte)",
    function() local s = proc.quote_arg('a\0b') return s end)
  T.check_error("bad argument #1 to 'esc' (contains a NUL byte)",
    function() local s = proc.esc('\0') return s end)
  T.check_error("bad argument #1 to 'quote_arg' (string expected, got nil)",
    function() local s = proc.quote_arg() return s end)
  T.check_error("bad argument #2 to 'quote_arg' (unknown platform 'dos')",
    function() local s = proc.quote_arg('x', 'dos') return s end)
end)

-- Splits a Windows command line the way the Microsoft C runtime does
-- (argv[1..], in the documented "Parsing C command-line arguments"
-- rules): 2n backslashes and a quote give n backslashes and toggle
-- quoting; 2n+1 give n and a literal quote; other backslashes are
-- literal; "" inside quotes is a literal quote.
local function win_split(line)
  local args, cur, quoted, have, i = {}, {}, false, false, 1
  while i <= #line do
    local c = line:sub(i, i)
    if c == '\\' then
      local j = i
      while line:sub(j, j) == '\\' do j = j + 1 end
      local n = j - i
      if line:sub(j, j) == '"' then
        cur[#cur + 1] = ('\\'):rep(math.floor(n / 2))
        if n % 2 == 1 then cur[#cur + 1] = '"'; j = j + 1 end
      else
        cur[#cur + 1] = ('\\'):rep(n)
      end
      have, i = true, j
    elseif c == '"' then
      if quoted and line:sub(i + 1, i + 1) == '"' then
        cur[#cur + 1] = '"'
        i = i + 2
      else
        quoted, have, i = not quoted, true, i + 1
      end
    elseif (c == ' ' or c == '\t') and not quoted then
      if have then args[#args + 1] = table.concat(cur) end
      cur, have, i = {}, false, i + 1
    else
      cur[#cur + 1] = c
      have, i = true, i + 1
    end
  end
  if have then args[#args + 1] = table.concat(cur) end
  return args
end

T.test('the win parser model agrees with the documented examples', function()
  local examples = {
    {[["a b c" d e]], {'a b c', 'd', 'e'}},
    {[["ab\"c" "\\" d]], {'ab"c', '\\', 'd'}},
    {[[a\\\b d"e f"g h]], {[[a\\\b]], 'de fg', 'h'}},
    {[[a\\\"b c d]], {[[a\"b]], 'c', 'd'}},
    {[[a\\\\"b c" d e]], {[[a\\b c]], 'd', 'e'}},
  }
  for _, e in ipairs(examples) do
    local got = win_split(e[1])
    assert(table.concat(got, '|') == table.concat(e[2], '|'),
      e[1] .. ' -> ' .. table.concat(got, '|'))
  end
end)

T.test('quote_arg for win round trips through that parser', function()
  for _, s in ipairs(hostile) do
    local line = proc.quote_arg(s, 'win') .. ' next'
    local got = win_split(line)
    assert(#got == 2 and got[1] == s and got[2] == 'next',
      ('%q became %s'):format(s, table.concat(got, '|')))
  end
  assert(proc.quote_arg('plain', 'win') == 'plain')
  assert(proc.quote_arg('a b\\', 'win') == '"a b\\\\"')
  assert(proc.esc('a"b', 'win') == 'a\\"b')
end)

T.done()
