-- LuaJIT with luv (Debian's lua-luv) for tools/bench: the same modes and
-- output as floor.c (see there), written the way a luv user would, with
-- callbacks on libuv's default loop.
local uv = require'luv'

local function now_us() return uv.hrtime() / 1e3 end  -- CLOCK_MONOTONIC

-- Spawns cmd and calls done() once it exited 0.
local function run(cmd, done, stdio)
  local h
  h = assert(uv.spawn(cmd[1], {args = {unpack(cmd, 2)}, stdio = stdio},
    function(code)
      assert(code == 0, 'child failed')
      h:close()
      done()
    end))
end

local mode = {}

function mode.spawn(n, cmd)
  local i, t0 = 0
  local function next_one()
    if t0 then print(('%.1f'):format(now_us() - t0)) end
    i = i + 1
    if i > n then return end
    t0 = now_us()
    run(cmd, next_one)
  end
  next_one()
  uv.run()
end

function mode.many(n, cmd)
  local t0, left = now_us(), n
  for _ = 1, n do run(cmd, function() left = left - 1 end) end
  uv.run()
  assert(left == 0)
  print(('%.1f'):format((now_us() - t0) / 1e3))
end

-- libuv offers each read 64 KiB, so every read(2) asks for 64 KiB.
function mode.read(cmd)
  local t0, total = now_us(), 0
  local out = uv.new_pipe(false)
  run(cmd, function() end, {nil, out, 2})
  out:read_start(function(err, data)
    assert(not err, err)
    if data then
      total = total + #data
    else
      out:close()
    end
  end)
  uv.run()
  print(('%.3f'):format(total / ((now_us() - t0) * 1e3)))
  if total ~= 2^30 then io.stderr:write('read ', total, ' bytes\n') end
end

function mode.exit(n, cmd)
  local i = 0
  local function next_one()
    i = i + 1
    if i > n then return end
    run(cmd, function()
      local t = now_us()
      local f = assert(io.open(cmd[2]))
      print(('%.1f'):format(t - f:read('n') / 1e3))
      f:close()
      next_one()
    end)
  end
  next_one()
  uv.run()
end

local m = ...
local rest = {select(2, ...)}
if m == 'read' then
  mode.read(rest)
else
  mode[m](tonumber(rest[1]), {unpack(rest, 2)})
end
