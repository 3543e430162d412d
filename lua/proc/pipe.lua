-- Pipe ends behave like Lua files: read, write, lines, close, with the
-- results io.read gives at the end of a stream. A call that must wait
-- (for a line, for the kernel to take a write) waits through the
-- scheduler: it yields inside a proc thread and runs the loop elsewhere.
local sched = require'proc.sched'
local prim = require'proc.core'.pipe

local try_read, write, pending = prim.try_read, prim.write, prim.pending
local key, closed, mode = prim.key, prim.closed, prim.mode
local wait = sched.wait
local select, type, tostring, unpack = select, type, tostring, unpack
local error, getmetatable = error, getmetatable
local concat = table.concat
local pipe_mt = debug.getregistry().pipe

local pipe = {}

-- Misuse raises as with Lua's file methods: arguments numbered without
-- self, the error placed at the method's caller (level: that caller, as
-- error() would count it in the function calling arg_error).
local function arg_error(level, n, fname, msg)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), level + 1)
end

-- self must be an open end that reads (want 'r') or writes ('w'). The
-- error goes to the caller of the method; deeper (default 0) counts the
-- frames between the method and this check.
local function check_end(self, want, fname, deeper)
  local level = 3 + (deeper or 0)
  if getmetatable(self) ~= pipe_mt then
    error(("calling '%s' on bad self (pipe expected, got %s)")
      :format(fname, type(self)), level)
  end
  local m = mode(self)
  if not m then error('attempt to use a closed pipe', level) end
  if m ~= want then
    error(("calling '%s' on bad self (pipe is not %s)")
      :format(fname, want == 'r' and 'readable' or 'writable'), level)
  end
end

-- The formats try_read knows: a count, or l, L, a with an optional '*'
-- (only the first letter counts, as in io.read).
local function check_format(fmt, n, fname, deeper)
  local t, level = type(fmt), 3 + (deeper or 0)
  if t == 'number' then
    if not (fmt >= 0) then arg_error(level, n, fname, 'count must be >= 0') end
  elseif t ~= 'string' then
    arg_error(level, n, fname, 'invalid option')
  elseif not fmt:find('^%*?[lLa]') then
    arg_error(level, n, fname, 'invalid format')
  end
end

-- try_read answers a wrong call with nil, false: only then does read1
-- check the call (of fname, fmt its argument #argn), to raise the error
-- it deserves, at the user's line when read1 came as a tail call.
local function misuse(p, fmt, fname, argn)
  check_end(p, 'r', fname, 1)
  check_format(fmt, argn, fname, 1)
  error('attempt to use a closed pipe', 3)  -- closed while waiting
end

local function read1(p, fmt, fname, argn)
  while true do
    local ok, v, code = try_read(p, fmt)
    if ok then return v end
    if ok == nil then
      if v == false then misuse(p, fmt, fname, argn) end
      return nil, v, code
    end
    wait(key(p))
  end
end

-- Waits until every write is with the kernel: p, or nil, message, code.
local function drain(p)
  while true do
    local n, err, code = pending(p)
    if not n then return nil, err, code end
    if n == 0 or closed(p) then return p end
    wait(key(p))
  end
end

function pipe:read(...)
  local n = select('#', ...)
  if n == 1 then return read1(self, ..., 'read', 1) end
  if n == 0 then return read1(self, 'l', 'read', 1) end
  check_end(self, 'r', 'read')
  for i = 1, n do check_format((select(i, ...)), i, 'read') end
  local out = {}
  for i = 1, n do
    local v, err, code = read1(self, (select(i, ...)), 'read', i)
    if v == nil then
      if err then return nil, err, code end
      return unpack(out, 1, i)
    end
    out[i] = v
  end
  return unpack(out, 1, n)
end

function pipe:lines(fmt)
  check_end(self, 'r', 'lines')
  if fmt == nil then fmt = 'l' else check_format(fmt, 1, 'lines') end
  return function() return read1(self, fmt, 'lines', 1) end
end

function pipe:write(...)
  check_end(self, 'w', 'write')
  local n = select('#', ...)
  local s = ...
  if n ~= 1 or type(s) ~= 'string' then
    local parts = {...}
    for i = 1, n do
      local t = type(parts[i])
      if t == 'number' then
        parts[i] = tostring(parts[i])
      elseif t ~= 'string' then
        arg_error(2, i, 'write', ('string expected, got %s'):format(t))
      end
    end
    s = concat(parts, '', 1, n)
  end
  local ok, err, code = write(self, s)
  if not ok then return nil, err, code end
  return drain(self)
end

function pipe:flush()
  return drain(self)
end

-- Closing a write end lets what is in flight finish first, so the reader
-- gets everything and then the end of the stream. Closing twice is fine.
function pipe:close()
  if closed(self) then return true end
  drain(self)
  prim.close(self)
  return true
end

-- The end is not a file the platform could seek or buffer.
function pipe:setvbuf() return true end

debug.getregistry().pipe.__index = pipe

return pipe
