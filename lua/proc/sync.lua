-- proc.sync: named mutexes, semaphores and events shared by processes of
-- one user (proc.mutex, proc.semaphore, proc.event, proc.remove). The
-- native part (proc.sync_core) opens the objects and runs each blocking
-- wait on a worker thread; here the caller waits for it through the
-- scheduler, so a wait inside a proc thread lets the others run.
--
-- A mutex is owned by the thread (proc thread, coroutine, or the main
-- chunk) that locked it, and is recursive within that thread: each lock
-- needs its unlock. Other threads of this process wait as other
-- processes do.
local sched = require'proc.sched'
local core = require'proc.sync_core'

local wait, wake = sched.wait, sched.wake
local now, try = core.now, core.try
local running = coroutine.running
local type, tostring, error, pcall = type, tostring, error, pcall
local setmetatable, getmetatable = setmetatable, getmetatable
local floor, huge = math.floor, math.huge

local sync = {}

local MAIN = {}  -- the owner outside any coroutine

local function me()
  return running() or MAIN
end

local function argerror(fname, n, msg)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, msg), 3)
end

local function check_name(fname, name)
  if type(name) ~= 'string' then
    argerror(fname, 1, 'string expected, got ' .. type(name))
  end
  local why = core.check_name(name)
  if why then argerror(fname, 1, why) end
  return name
end

-- nil (forever) or seconds; a method's timeout is its argument #1.
local function check_timeout(fname, t)
  if t == nil or t == huge then return nil end
  if type(t) ~= 'number' or not (t >= 0) then
    argerror(fname, 1, 'timeout must be a number >= 0')
  end
  return t
end

local function check_self(mt, fname, self)
  if getmetatable(self) ~= mt then
    local got = type(self)
    argerror(fname, 1, mt.kind .. ' expected, got ' .. got)
  end
  if self.closed then
    error(("%s '%s' is closed"):format(mt.kind, self.name), 3)
  end
end

-- Waits on a worker thread until h can be taken or the deadline passes:
-- 'taken', 'abandoned', false (timeout), 'closed', or nil, msg, code.
-- An error while waiting (Ctrl-C) cancels the worker and goes on; if the
-- worker took h as the error came, h is given back, as the caller will
-- never learn it had it.
local function block(h, op, deadline)
  local w, key, code = core.wait_start(h, op)
  if not w then return nil, key, code end
  local ok, err = pcall(function()
    while not core.wait_ended(w) do
      local left = deadline and deadline - now()
      if left and left <= 0 then return end
      wait(key, left)
    end
  end)
  local r, msg, code2 = core.wait_finish(w, op)
  if not ok then
    if r == 'taken' or r == 'abandoned' then core.untake(h, r) end
    error(err, 0)
  end
  return r, msg, code2
end

-- try, then block: the shared part of every wait. A manual event's wait
-- counts the set() calls since the try, so a set() and reset() between
-- the two still release it.
local function take(self, op, deadline)
  local r, msg, code = try(self.h, op)
  if r == false and (not deadline or deadline > now()) then
    r, msg, code = block(self.h, op, deadline)
  end
  if r == 'closed' then
    error(("%s '%s' was closed while waiting"):format(self.kind, self.name),
      3)
  end
  return r, msg, code
end

local function results(r, msg, code)
  if r == 'abandoned' then return true, 'abandoned' end
  if r then return true end
  if msg then return nil, msg, code end
  return nil, 'timeout'
end

local function close(self)
  if not self.closed then
    self.closed = true
    core.close(self.h)
    wake(self)
  end
  return true
end

local function tostr(self)
  return ("%s '%s'"):format(self.kind, self.name)
end

local function new_type(kind)
  local mt = {kind = kind, __tostring = tostr}
  mt.__index = {kind = kind, close = close}
  return mt, mt.__index
end

-- Mutexes ------------------------------------------------------------

local mutex_mt, mutex = new_type('mutex')

-- The holder is the thread that owns the mutex, or is getting it at
-- the OS level; other threads of this process queue behind it.
local function lock(self, fname, timeout)
  local co = me()
  if self.holder == co then
    self.depth = self.depth + 1
    return true
  end
  local deadline = timeout and now() + timeout
  while self.holder do
    local left = deadline and deadline - now()
    if left and left <= 0 then return nil, 'timeout' end
    wait(self, left)
    check_self(mutex_mt, fname, self)
  end
  self.holder = co
  local ok, r, msg, code = pcall(take, self, fname, deadline)
  if ok and r then
    self.depth = 1
  else
    self.holder = nil
    wake(self)
  end
  if not ok then error(r, 0) end
  return results(r, msg, code)
end

function mutex:lock(timeout)
  check_self(mutex_mt, 'lock', self)
  return lock(self, 'lock', check_timeout('lock', timeout))
end

function mutex:trylock()
  check_self(mutex_mt, 'trylock', self)
  return lock(self, 'trylock', 0)
end

function mutex:unlock()
  check_self(mutex_mt, 'unlock', self)
  if self.holder ~= me() or self.depth == 0 then
    error(("unlock of mutex '%s', which this thread does not hold")
      :format(self.name), 2)
  end
  self.depth = self.depth - 1
  if self.depth > 0 then return true end
  local ok, msg, code = core.unlock(self.h)
  self.holder = nil
  wake(self)
  if not ok then return nil, msg, code end
  return true
end

local function open(mt, fname, name, ...)
  local h, msg, code = core.open(mt.kind, name, ...)
  if not h then return nil, msg, code end
  return setmetatable({h = h, name = name, depth = 0}, mt)
end

function sync.mutex(name)
  return open(mutex_mt, 'mutex', check_name('mutex', name))
end

-- Semaphores ---------------------------------------------------------

local semaphore_mt, semaphore = new_type('semaphore')

local function check_count(fname, n, min, default)
  if n == nil then return default end
  if type(n) ~= 'number' or n ~= floor(n) or n < min or
      n > core.max_count then
    argerror(fname, fname == 'semaphore' and 2 or 1,
      ('integer from %d to %d expected, got %s'):format(min,
        core.max_count, tostring(n)))
  end
  return n
end

function semaphore:wait(timeout)
  check_self(semaphore_mt, 'wait', self)
  timeout = check_timeout('wait', timeout)
  return results(take(self, 'wait', timeout and now() + timeout))
end

function semaphore:post(n)
  check_self(semaphore_mt, 'post', self)
  return core.post(self.h, check_count('post', n, 1, 1))
end

function sync.semaphore(name, initial)
  check_name('semaphore', name)
  initial = check_count('semaphore', initial, 0, 0)
  return open(semaphore_mt, 'semaphore', name, initial)
end

-- Events -------------------------------------------------------------

local event_mt, event = new_type('event')

function event:wait(timeout)
  check_self(event_mt, 'wait', self)
  timeout = check_timeout('wait', timeout)
  return results(take(self, 'wait', timeout and now() + timeout))
end

function event:set()
  check_self(event_mt, 'set', self)
  return core.set(self.h)
end

function event:reset()
  check_self(event_mt, 'reset', self)
  return core.reset(self.h)
end

local event_options = {manual = true, initial = true}

function sync.event(name, options)
  check_name('event', name)
  if options ~= nil and type(options) ~= 'table' then
    argerror('event', 2, 'table expected, got ' .. type(options))
  end
  options = options or {}
  for k in pairs(options) do
    if not event_options[k] then
      error(("bad argument #2 to 'event' (unknown option '%s')")
        :format(tostring(k)), 2)
    end
  end
  return open(event_mt, 'event', name, 0, options.manual, options.initial)
end

-- Everything ---------------------------------------------------------

local kinds = {mutex = true, semaphore = true, event = true}

function sync.remove(kind, name)
  if not kinds[kind] then
    argerror('remove', 1, "'mutex', 'semaphore' or 'event' expected, got "
      .. tostring(kind))
  end
  if type(name) ~= 'string' then
    argerror('remove', 2, 'string expected, got ' .. type(name))
  end
  local why = core.check_name(name)
  if why then argerror('remove', 2, why) end
  return core.remove(kind, name)
end

-- The directory that holds the objects (for tests and tools).
sync.dir = core.dir

return sync
