// proc.loop: poll, timers and fatal errors for the scheduler.
#include "modules/proc_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <unordered_set>
#include <vector>

#include "modules/proc_pipe.hpp"
#include "runtime/host.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace proc {
namespace {

std::vector<const void*> g_woken;

struct Timer {
  uv_timer_t handle;
};

// Timers live until cancel(), fired or not, so that a key the scheduler
// holds never dangles.
std::unordered_set<Timer*> g_timers;

void free_timer(uv_handle_t* h) {
  delete static_cast<Timer*>(h->data);
}

void close_timer(Timer* t) {
  g_timers.erase(t);
  uv_close(reinterpret_cast<uv_handle_t*>(&t->handle), free_timer);
}

void close_all_timers(uv_loop_t*) {
  while (!g_timers.empty()) close_timer(*g_timers.begin());
}

void on_timer(uv_timer_t* h) {
  wake(h->data);
}

// poll(block) -> key... : the keys woken since the last poll. With block
// true and none pending, waits in the loop until one is; returns nothing
// if the loop has nothing left that could ever wake anyone.
int loop_poll(lua_State* L) {
  bool block = lua_toboolean(L, 1);
  uv_loop_t* loop = runtime_loop();
  start_new_pipes();
  bool alive = true;
  while (g_woken.empty() && alive) {
    alive = uv_run(loop, block ? UV_RUN_ONCE : UV_RUN_NOWAIT) != 0;
    raise_if_interrupted(L);
    if (!block) break;
  }
  int n = static_cast<int>(g_woken.size());
  luaL_checkstack(L, n, "too many events");
  for (const void* key : g_woken) lua_pushlightuserdata(L, (void*)key);
  g_woken.clear();
  return n;
}

// timer(seconds) -> key: wakes key once, after seconds (0 means at the
// next poll that runs the loop). Every timer must be cancelled once.
int loop_timer(lua_State* L) {
  lua_Number s = luaL_checknumber(L, 1);
  if (!(s >= 0) || std::isinf(s))
    luaL_argerror(L, 1, "seconds must be a finite number >= 0");
  uv_loop_t* loop = runtime_loop();
  static bool closer_set = false;
  if (!closer_set) at_loop_close(close_all_timers);
  closer_set = true;
  uv_update_time(loop);  // the loop's clock stands still between runs
  auto* t = new Timer;
  g_timers.insert(t);
  uv_timer_init(loop, &t->handle);
  t->handle.data = t;
  // Round up so that a timeout never ends before it was due.
  uv_timer_start(&t->handle, on_timer,
                 static_cast<uint64_t>(std::ceil(s * 1e3)), /*repeat=*/0);
  lua_pushlightuserdata(L, t);
  return 1;
}

// cancel(key): frees a timer from timer(), fired or not; a wake it queued
// and poll has not yet returned is dropped with it.
int loop_cancel(lua_State* L) {
  luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
  auto* t = static_cast<Timer*>(lua_touserdata(L, 1));
  if (!g_timers.count(t)) luaL_argerror(L, 1, "not a live timer");
  g_woken.erase(std::remove(g_woken.begin(), g_woken.end(), t), g_woken.end());
  close_timer(t);
  return 0;
}

// fatal(co, err): reports an error that no caller can catch, one that
// escaped the thread co, the way the host reports the main chunk's, and
// exits. The error a SIGTERM raised ends procrun by that signal,
// unreported.
int loop_fatal(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  luaL_argcheck(L, co, 1, "thread expected");
  finish_termination();
  lua_settop(L, 2);
  add_traceback(L, co, 0);
  report(L, 1);
  std::exit(EXIT_FAILURE);
}

// now() -> seconds on a monotonic clock, for deadlines.
int loop_now(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(uv_hrtime()) * 1e-9);
  return 1;
}

const luaL_Reg kFunctions[] = {
    {"cancel", loop_cancel}, {"fatal", loop_fatal}, {"now", loop_now},
    {"poll", loop_poll},     {"timer", loop_timer}, {nullptr, nullptr},
};

}  // namespace

// A wake ends the current round of the loop: timers and other callbacks
// that run before the poll would otherwise leave UV_RUN_ONCE blocking in
// it, the wake queued, for as long as another handle keeps the loop alive.
void wake(const void* key) {
  g_woken.push_back(key);
  uv_stop(runtime_loop());
}

}  // namespace proc
}  // namespace procrun

extern "C" int luaopen_proc_loop(lua_State* L) {
  lua_newtable(L);
  luaL_register(L, nullptr, procrun::proc::kFunctions);
  return 1;
}
