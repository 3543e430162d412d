-- procrun's side of tools/bench, with the same modes and output as
-- floor.c (see there), plus:
--   procrun procrun.lua luafile N script.lua   exec_luafile, then wait
local proc = require'proc'
local ffi = require'ffi'

ffi.cdef[[
struct bench_timespec { long sec, nsec; };
int clock_gettime(int clock, struct bench_timespec *ts);
]]
local ts = ffi.new'struct bench_timespec'

-- Microseconds on CLOCK_MONOTONIC (1), the clock stamp.c writes.
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.sec) * 1e6 + tonumber(ts.nsec) / 1e3
end

local function check(p, err)
  return p or error(err, 2)
end

local function waited(p)
  assert(p:wait() == 0, 'child failed')
end

local mode = {}

function mode.spawn(n, cmd)
  for _ = 1, n do
    local t0 = now_us()
    waited(check(proc.exec{cmd = cmd}))
    print(('%.1f'):format(now_us() - t0))
  end
end

function mode.luafile(n, cmd)
  for _ = 1, n do
    local t0 = now_us()
    waited(check(proc.exec_luafile(cmd[1])))
    print(('%.1f'):format(now_us() - t0))
  end
end

function mode.many(n, cmd)
  local t0, ps = now_us(), {}
  for i = 1, n do ps[i] = check(proc.exec{cmd = cmd}) end
  for i = 1, n do waited(ps[i]) end
  print(('%.1f'):format((now_us() - t0) / 1e3))
end

-- The loop issue 4 names: read(65536) until the end of the stream.
function mode.read(cmd)
  local t0, total = now_us(), 0
  local p = check(proc.exec{cmd = cmd, stdout = 'pipe'})
  local out = p.stdout
  while true do
    local s = out:read(65536)
    if not s then break end
    total = total + #s
  end
  waited(p)
  print(('%.3f'):format(total / ((now_us() - t0) * 1e3)))
  if total ~= 2^30 then io.stderr:write('read ', total, ' bytes\n') end
end

function mode.exit(n, cmd)
  for _ = 1, n do
    waited(check(proc.exec{cmd = cmd}))
    local t = now_us()
    local f = assert(io.open(cmd[2]))
    print(('%.1f'):format(t - f:read('n') / 1e3))
    f:close()
  end
end

local m = ...
local rest = {select(2, ...)}
if m == 'read' then
  mode.read(rest)
else
  mode[m](tonumber(rest[1]), {unpack(rest, 2)})
end
