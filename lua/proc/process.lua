-- The process methods that wait: wait and communicate. They wait through
-- the scheduler, so inside a proc thread they yield and elsewhere they run
-- the loop, which keeps draining every child's piped output meanwhile.
local core = require'proc.core'
local loop = require'proc.loop'
local sched = require'proc.sched'
require'proc.pipe'

local methods = core.process_methods
local exit_code, kill = methods.exit_code, methods.kill
local process_key = core.process_key
local prim = core.pipe
local now = loop.now
local wait_any = sched.wait_any
local process_mt = debug.getregistry().process
local getmetatable, type, pairs, select = getmetatable, type, pairs, select

local function check_process(p, fname)
  if getmetatable(p) ~= process_mt then
    error(("bad argument #1 to '%s' (process expected, got %s)")
      :format(fname, type(p)), 3)
  end
end

-- Method arguments are numbered without self, as Lua's own file methods.
local function check_seconds(s, fname, what)
  if s ~= nil and type(s) ~= 'number' then
    error(("bad argument #1 to '%s' (number expected, got %s)")
      :format(fname, type(s)), 3)
  elseif s and not (s >= 0) then
    error(("bad argument #1 to '%s' (%s must be a number >= 0)")
      :format(fname, what), 3)
  end
end

local function deadline_of(timeout)
  return timeout and timeout < math.huge and now() + timeout or nil
end

-- Seconds left before deadline (nil: no deadline), or false if passed.
local function left(deadline)
  if not deadline then return nil end
  local t = deadline - now()
  return t > 0 and t
end

function methods.wait(p, timeout)
  check_process(p, 'wait')
  check_seconds(timeout, 'wait', 'timeout')
  local deadline = deadline_of(timeout)
  local keys = {process_key(p)}
  while true do
    -- exit_code's returns, as many as it gives: 1, 2 or 3.
    local code, why, signal = exit_code(p)
    if signal then return code, why, signal end
    if why and why ~= 'active' then return code, why end
    if not why then return code end
    local t = left(deadline)
    if t == false then return nil, 'timeout' end
    wait_any(keys, t)
  end
end

local TREE = {tree = true}

-- TERM to the whole tree, up to grace seconds (default 5) for the child to
-- exit, then KILL to whatever of the tree is left. Returns as wait does.
function methods.terminate(p, grace)
  check_process(p, 'terminate')
  check_seconds(grace, 'terminate', 'grace')
  if select(2, exit_code(p)) == 'active' then
    kill(p, 'TERM', TREE)
    p:wait(grace or 5)
  end
  kill(p, 'KILL', TREE)  -- descendants outliving the child die too
  return p:wait()
end

-- communicate ------------------------------------------------------------

local option_keys = {timeout = true, max_output = true}

local function check_options(opts)
  if opts == nil then return {} end
  if type(opts) ~= 'table' then
    error(("bad argument #2 to 'communicate' (table expected, got %s)")
      :format(type(opts)), 3)
  end
  for k in pairs(opts) do
    if not option_keys[k] then
      error(("bad argument #2 to 'communicate' (unknown option '%s')")
        :format(tostring(k)), 3)
    end
  end
  for k in pairs(option_keys) do
    local v = opts[k]
    if v ~= nil and (type(v) ~= 'number' or not (v >= 0)) then
      error(("bad argument #2 to 'communicate' (field '%s': number >= 0 " ..
        "expected)"):format(k), 3)
    end
  end
  return opts
end

local function output_done(pipe)
  return not pipe or prim.eof(pipe)
end

local function buffered(pipe)
  return pipe and prim.buffered(pipe) or 0
end

local function take_all(pipe)
  if not pipe then return nil end
  local s = prim.take(pipe)
  prim.close(pipe)
  return s
end

-- Ends a communicate early: the child's tree dies (a grandchild holding
-- a pipe would keep it open), what was read comes back.
local function abandon(p, why, out, err)
  kill(p, 'KILL', TREE)
  p:wait()
  return nil, why, take_all(out), take_all(err)
end

-- Writes input, closes stdin, reads stdout and stderr to their end, all
-- at once as data comes, then waits for the exit. -> out, err | nil,
-- 'timeout' or 'max_output', out so far, err so far (the child killed).
function methods.communicate(p, input, opts)
  check_process(p, 'communicate')
  if input ~= nil and type(input) ~= 'string' then
    error(("bad argument #1 to 'communicate' (string expected, got %s)")
      :format(type(input)), 2)
  end
  opts = check_options(opts)
  local stdin, out, err = p.stdin, p.stdout, p.stderr
  if input and input ~= '' and not stdin then
    error("bad argument #1 to 'communicate' (the process has no stdin " ..
      "pipe)", 2)
  end

  local deadline = deadline_of(opts.timeout)
  local max = opts.max_output
  local keys = {process_key(p)}
  for _, pipe in pairs{stdin, out, err} do keys[#keys + 1] = prim.key(pipe) end
  if input and input ~= '' and not prim.write(stdin, input) then
    stdin:close()  -- the child is not reading: its loss, as in a shell
  end

  while true do
    if stdin and not prim.closed(stdin) then
      local n = prim.pending(stdin)
      if n == 0 then
        stdin:close()
      elseif not n then  -- EPIPE and the like: the child stopped reading
        prim.close(stdin)
      end
    end
    if max and buffered(out) + buffered(err) > max then
      return abandon(p, 'max_output', out, err)
    end
    if (not stdin or prim.closed(stdin)) and output_done(out) and
       output_done(err) and select(2, exit_code(p)) ~= 'active' then
      break
    end
    local t = left(deadline)
    if t == false then return abandon(p, 'timeout', out, err) end
    wait_any(keys, t)
  end
  local o, e = take_all(out), take_all(err)
  p:wait()
  return o, e
end

-- Live figures of the child (proc.stats), or nil, 'finished' once it has
-- exited (killed too), or nil, 'forgotten'. Until the child is reaped its
-- pid cannot be reused, so the figures are its own.
function methods.stats(p)
  check_process(p, 'stats')
  local _, why = exit_code(p)
  if why == 'active' then
    local s, msg, code = core.stats(p.id)
    -- A zombie has exited and only awaits reaping: look once more.
    if not (s and s.state == 'zombie') then return s, msg, code end
    _, why = exit_code(p)
    if why == 'active' then return s end
  end
  return nil, why == 'forgotten' and 'forgotten' or 'finished'
end

return methods
