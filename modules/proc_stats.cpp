// proc.stats([pid]): the live CPU and memory figures of a process, as a
// table. p:stats() (lua/proc/process.lua) calls it for a live child.
#include "modules/proc_stats.hpp"

#include <climits>
#include <cmath>

#include "modules/proc.hpp"

namespace procrun {
namespace proc {
namespace {

// The pid argument; none or nil means procrun itself.
int check_pid(lua_State* L, int arg) {
  if (lua_isnoneornil(L, arg)) return uv_os_getpid();
  if (lua_type(L, arg) != LUA_TNUMBER) luaL_typerror(L, arg, "number");
  lua_Number n = lua_tonumber(L, arg);
  if (!(n >= 0) || n != std::floor(n))
    luaL_argerror(L, arg, "pid must be an integer >= 0");
  if (n > INT_MAX) luaL_argerror(L, arg, "pid out of range");
  return static_cast<int>(n);
}

void set_number(lua_State* L, const char* key, double value) {
  lua_pushnumber(L, value);
  lua_setfield(L, -2, key);
}

void push_stats(lua_State* L, const ProcessStats& s) {
  lua_createtable(L, 0, 8);
  set_number(L, "rss", static_cast<double>(s.rss));
  set_number(L, "vms", static_cast<double>(s.vms));
  set_number(L, "peak_rss", static_cast<double>(s.peak_rss));
  set_number(L, "cpu_user", s.cpu_user);
  set_number(L, "cpu_sys", s.cpu_sys);
  set_number(L, "threads", static_cast<double>(s.threads));
  set_number(L, "started", s.started);
  lua_pushstring(L, s.state);
  lua_setfield(L, -2, "state");
}

}  // namespace

int proc_stats(lua_State* L) {
  int pid = check_pid(L, 1);
  ProcessStats s;
  if (int rc = read_process_stats(pid, &s))
    return push_os_errorf(L, rc, "stats %d", pid);
  push_stats(L, s);
  return 1;
}

}  // namespace proc
}  // namespace procrun
