-- proc.sched: threads, coroutines driven by the event loop. A blocking
-- call made inside a thread yields to the loop, so other threads and
-- children progress; made anywhere else it runs the loop in place (and
-- with it every thread) until its own event comes.
--
-- Whatever can be waited on is named by a key: a light userdata that
-- native code wakes through proc.loop, or any Lua value woken with
-- sched.wake.
local loop = require'proc.loop'

local poll, timer, cancel = loop.poll, loop.timer, loop.cancel
local create, resume, yield = coroutine.create, coroutine.resume,
  coroutine.yield
local running, status = coroutine.running, coroutine.status
local select, type, next, unpack = select, type, next, unpack

local sched = {}

local waiters = {}  -- key -> {waiter = true}; a waiter is a thread's
                    -- coroutine, or the record of a wait run in place
local threads = {}  -- coroutine -> its thread object, until it ends
local live = 0      -- threads not yet ended
local ready = {}    -- coroutines to resume at the next turn
local BLOCKED = {}  -- what a thread yields when it waits on keys

local function add_waiter(key, w)
  local set = waiters[key]
  if set then
    set[w] = true
  else
    waiters[key] = {[w] = true}  -- sized at once: most keys have one
  end
end

local function remove_waiter(key, w)
  local set = waiters[key]
  if set then
    set[w] = nil
    if next(set) == nil then waiters[key] = nil end
  end
end

local step

-- Wakes everyone waiting on key: threads resume, waits in place note it.
local function wake(key)
  local set = waiters[key]
  if not set then return end
  waiters[key] = nil
  for w in pairs(set) do
    if type(w) == 'table' then
      w.woke = w.woke or key
    elseif status(w) == 'suspended' then
      step(w, key)
    end
  end
end
sched.wake = wake

local function finish(co, ...)
  local t = threads[co]
  threads[co] = nil
  live = live - 1
  t.results = {n = select('#', ...), ...}
  wake(t)
end

-- An error a thread does not catch ends procrun the way an error in the
-- main chunk does: message, traceback, exit status 1.
local function after(co, ok, ...)
  if not ok then
    loop.fatal(co, (...))
  elseif status(co) == 'dead' then
    finish(co, ...)
  elseif ... ~= BLOCKED then  -- a plain coroutine.yield(): others first
    ready[#ready + 1] = co
  end
end

function step(co, ...)
  return after(co, resume(co, ...))
end

local function run_ready()
  local n = #ready
  if n == 0 then return end
  local batch = ready
  ready = {}
  for i = 1, n do step(batch[i]) end
end

local function dispatch(...)
  for i = 1, select('#', ...) do wake((select(i, ...))) end
  return select('#', ...)
end

-- One turn: resume ready threads, then wait for events (or just collect
-- them, if block is false) and resume whoever waits on them. Returns
-- false when nothing is ready and nothing in the loop can wake anyone.
local function turn(block)
  run_ready()
  local n = dispatch(poll(block and #ready == 0))
  return n > 0 or #ready > 0 or not block
end

-- Waiting on a list of keys: the first one woken ends the wait.

local function add_all(keys, n, w)
  for i = 1, n do add_waiter(keys[i], w) end
end

local function remove_all(keys, n, w)
  for i = 1, n do remove_waiter(keys[i], w) end
end

-- Records of finished waits in place, for reuse: reading a pipe waits
-- once per chunk, and a fresh table each time keeps the collector busy.
local spare = {}

local function wait_in_place(keys, n)
  local ns = #spare
  local w = spare[ns] or {woke = false}
  spare[ns] = nil
  add_all(keys, n, w)
  while not w.woke do
    if not turn(true) and not w.woke then
      remove_all(keys, n, w)
      error('deadlock: waiting for an event that nothing can bring', 4)
    end
  end
  remove_all(keys, n, w)
  local woke = w.woke
  w.woke = false
  spare[#spare + 1] = w
  return woke
end

local function wait_in_thread(co, keys, n)
  add_all(keys, n, co)
  local woke
  repeat
    woke = yield(BLOCKED)
    local mine = false
    for i = 1, n do mine = mine or keys[i] == woke end
  until mine
  remove_all(keys, n, co)
  return woke
end

local function wait_keys(keys, n)
  local co = running()
  if co and threads[co] then return wait_in_thread(co, keys, n) end
  return wait_in_place(keys, n)
end

-- Waits until one of the keys in the array is woken and returns it, or
-- returns nil once timeout seconds (if given) have passed. A wake is a
-- hint: callers look again at what they wait for.
function sched.wait_any(keys, timeout)
  local n = #keys
  local tkey = timeout and timer(timeout)
  if tkey then
    n = n + 1
    keys[n] = tkey
  end
  local woke = wait_keys(keys, n)
  if tkey then
    keys[n] = nil
    cancel(tkey)
  end
  if woke ~= tkey then return woke end
end

local spare_keys = {}  -- one-key arrays of finished waits, for reuse

-- Waits until key is woken (true) or timeout seconds pass (false).
function sched.wait(key, timeout)
  local n = #spare_keys
  local keys = spare_keys[n] or {}
  spare_keys[n] = nil
  keys[1] = key
  local woke = sched.wait_any(keys, timeout)
  keys[1] = nil
  spare_keys[#spare_keys + 1] = keys
  return woke ~= nil
end

function sched.sleep(seconds)
  local tkey = timer(seconds)
  wait_keys({tkey}, 1)
  cancel(tkey)
end

local thread_mt = {__index = {}}
thread_mt.__index.join = function(t)
  if not t.results then sched.wait(t) end
  return unpack(t.results, 1, t.results.n)
end
thread_mt.__tostring = function(t)
  return ('thread %s'):format(tostring(t.co):match('0x%x+') or '')
end

-- Starts fn(...) as a thread. It runs at once, until it first waits.
function sched.thread(fn, ...)
  if type(fn) ~= 'function' then
    error(("bad argument #1 to 'thread' (function expected, got %s)")
      :format(type(fn)), 2)
  end
  local co = create(fn)
  local t = setmetatable({co = co}, thread_mt)
  threads[co] = t
  live = live + 1
  step(co, ...)
  return t
end

-- Runs the loop until every thread has ended: what procrun does when the
-- main chunk returns. Children nobody waits on do not keep it going.
function sched.run()
  while live > 0 do
    if not turn(true) and live > 0 then
      error(('deadlock: %d thread(s) waiting for events that nothing ' ..
        'can bring'):format(live), 0)
    end
  end
end

-- The host calls this when the main chunk has returned.
debug.getregistry()['procrun.main_end'] = sched.run

return sched
