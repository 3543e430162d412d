-- Differential test: runs each case of cases.lua through luajit and
-- procrun and compares stdout, the first line of stderr (with the program
-- name taken out) and the exit code.
package.path = '../lua/?.lua;' .. package.path
local T = require'testlib'
local q = T.sh_quote

if select(3, T.sh('command -v luajit')) ~= 0 then
  io.stderr:write('SKIP: luajit is not installed; no reference to compare\n')
  os.exit(77)
end

local function command(host, case)
  local words = {}
  for name, value in pairs(case.env or {}) do
    words[#words + 1] = name .. '=' .. q(value)
  end
  words[#words + 1] = q(host)
  for _, a in ipairs(case.args) do words[#words + 1] = q(a) end
  return 'unset LUA_PATH LUA_CPATH LUA_INIT; ' .. table.concat(words, ' ')
end

local function first_line(s, host)
  local line = s:match('^[^\n]*') or ''
  -- The program name prefixes error messages; the interactive banner and
  -- prompts differ by design.
  return (line:gsub('^' .. host:gsub('%p', '%%%0') .. ':', 'HOST:')
              :gsub('^luajit:', 'HOST:'):gsub('^procrun:', 'HOST:'))
end

local function normalize_stdout(s, case)
  if case.args[1] == '-i' then  -- drop the version banner
    s = s:gsub('^[^\n]*\n', '')
  end
  return s
end

for i, case in ipairs(require'cases') do
  local name = ('case %d: %s'):format(i, table.concat(case.args, ' '))
  T.test(name, function()
    local lo, le, lc = T.sh(command('luajit', case), case.input)
    local po, pe, pc = T.sh(command(T.procrun, case), case.input)
    assert(lc == pc, ('exit code: luajit %d, procrun %d\n%s'):format(
      lc, pc, pe))
    if case.compare == 'code' then return end
    lo, po = normalize_stdout(lo, case), normalize_stdout(po, case)
    assert(lo == po, ('stdout differs:\nluajit: %q\nprocrun: %q'):format(
      lo, po))
    local l1, p1 = first_line(le, 'luajit'), first_line(pe, T.procrun)
    assert(l1 == p1, ('stderr differs:\nluajit: %q\nprocrun: %q'):format(
      l1, p1))
  end)
end

T.done()
