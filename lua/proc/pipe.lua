-- Pipe ends behave like Lua files: read, write, lines, close, with the
-- results io.read gives at the end of a stream. A call that must wait
-- (for a line, for the kernel to take a write) waits through the
-- scheduler: it yields inside a proc thread and runs the loop elsewhere.
local sched = require'proc.sched'
local prim = require'proc.core'.pipe

local try_read, write, pending = prim.try_read, prim.write, prim.pending
local key, closed = prim.key, prim.closed
local wait = sched.wait
local select, type, tostring, unpack = select, type, tostring, unpack
local concat = table.concat

local pipe = {}

local function read1(p, fmt)
  while true do
    local ok, v, code = try_read(p, fmt)
    if ok then return v end
    if ok == nil then return nil, v, code end
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
  if n <= 1 then return read1(self, n == 0 and 'l' or ...) end
  local out = {}
  for i = 1, n do
    local v, err, code = read1(self, (select(i, ...)))
    if v == nil then
      if err then return nil, err, code end
      return unpack(out, 1, i)
    end
    out[i] = v
  end
  return unpack(out, 1, n)
end

function pipe:lines(fmt)
  fmt = fmt or 'l'
  return function() return read1(self, fmt) end
end

function pipe:write(...)
  local n = select('#', ...)
  local s = ...
  if n ~= 1 or type(s) ~= 'string' then
    local parts = {...}
    for i = 1, n do
      local t = type(parts[i])
      if t == 'number' then
        parts[i] = tostring(parts[i])
      elseif t ~= 'string' then
        error(("bad argument #%d to 'write' (string expected, got %s)")
          :format(i, t), 2)
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
