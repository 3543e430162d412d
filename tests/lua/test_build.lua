-- The binary itself: static dependencies, exported Lua API, installation.
local T = require'testlib'
local q = T.sh_quote

local build_dir = T.procrun:match('^(.*)/[^/]+$')

T.test('ldd lists neither luajit nor libuv', function()
  local out, err, code = T.sh('ldd ' .. q(T.procrun))
  assert(code == 0, err)
  assert(not out:find('luajit'), out)
  assert(not out:find('libuv'), out)
end)

T.test('the binary exports the Lua C API and little else', function()
  local out = T.sh('nm -D --defined-only ' .. q(T.procrun))
  for _, sym in ipairs{'lua_pushstring', 'luaL_checklstring',
                       'luaopen_base', 'luaJIT_setmode'} do
    assert(out:find(' ' .. sym .. '\n', 1, true), sym .. ' not exported')
  end
  assert(not out:find(' uv_'), 'libuv symbols are exported')
end)

T.test('cmake --install installs procrun and its man page', function()
  local prefix = T.tmpdir() .. '/prefix'
  local _, err, code = T.sh(('cmake --install %s --prefix %s'):format(
    q(build_dir), q(prefix)))
  assert(code == 0, err)
  local out = T.sh(q(prefix .. '/bin/procrun') .. ' -e "print(42)"')
  assert(out == '42\n', out)
  local man = io.open(prefix .. '/share/man/man1/procrun.1')
  assert(man, 'no man page installed')
  assert(man:read('*a'):find('.SH OPTIONS', 1, true))
  man:close()
end)

T.done()
