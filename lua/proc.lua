-- proc: create and control child processes. The native part is proc.core
-- (spawning, process objects, pipes, the environment); proc.sched runs
-- threads on the event loop; this file adds what is naturally Lua:
-- quoting arguments for command lines.
local core = require'proc.core'
local sched = require'proc.sched'
require'proc.process'  -- the process methods that wait

local proc = {
  exec = core.exec,
  exec_luafile = core.exec_luafile,
  shell = core.shell,
  env = core.env,
  setenv = core.setenv,
  stats = core.stats,
  bundle = require'proc.bundle',  -- files of a procrun --bundle app
  thread = sched.thread,
  sleep = sched.sleep,
}

local default_platform = jit and jit.os == 'Windows' and 'win' or 'unix'

local function check_string(fname, s)
  if type(s) == 'number' then s = tostring(s) end
  if type(s) ~= 'string' then
    error(("bad argument #1 to '%s' (string expected, got %s)")
      :format(fname, type(s)), 3)
  end
  if s:find('\0', 1, true) then
    error(("bad argument #1 to '%s' (contains a NUL byte)"):format(fname), 3)
  end
  return s
end

local function check_platform(fname, platform)
  platform = platform or default_platform
  if platform ~= 'unix' and platform ~= 'win' then
    error(("bad argument #2 to '%s' (unknown platform '%s')")
      :format(fname, tostring(platform)), 3)
  end
  return platform
end

-- Inside POSIX single quotes everything is literal but the quote itself,
-- which must close the quotes, be escaped, and reopen them.
local function esc_unix(s)
  return (s:gsub("'", [['\'']]))
end

-- Inside double quotes, as CommandLineToArgvW and the C runtime parse
-- them: backslashes are literal unless a quote follows, so double those
-- before a quote (and before the closing quote) and escape the quote.
local function esc_win(s)
  s = s:gsub('(\\*)"', function(bs) return bs .. bs .. '\\"' end)
  return (s:gsub('(\\+)$', '%1%1'))
end

local esc = {unix = esc_unix, win = esc_win}
local plain = {unix = '^[%w@%%+=:,./_-]+$', win = '^[^ \t\n\v"]+$'}
local quote = {unix = "'", win = '"'}

-- The text that goes between the platform's quotes for s.
function proc.esc(s, platform)
  s = check_string('esc', s)
  return esc[check_platform('esc', platform)](s)
end

-- s as one word for the platform's shell (unix) or command-line parser
-- (win): left alone when nothing in it is special, else quoted.
function proc.quote_arg(s, platform)
  s = check_string('quote_arg', s)
  platform = check_platform('quote_arg', platform)
  if s:find(plain[platform]) then return s end
  local q = quote[platform]
  return q .. esc[platform](s) .. q
end

local sync = require'proc.sync'
proc.mutex, proc.semaphore, proc.event, proc.remove =
  sync.mutex, sync.semaphore, sync.event, sync.remove

return proc
