// Ctrl-C while Lua code runs: the signal handler only installs a hook, and
// the hook raises "interrupted!" at the next safe point, as luajit does.
// A second Ctrl-C before that point kills the process the default way.

#include <csignal>

#include "runtime/host.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace {

lua_State* volatile g_state = nullptr;
int g_depth = 0;  // call_protected may nest (require inside a chunk)
volatile sig_atomic_t g_interrupted = 0;

void raise_interrupt(lua_State* L, lua_Debug*) {
  lua_sethook(L, nullptr, 0, 0);
  g_interrupted = 0;
  luaL_where(L, 0);
  lua_pushfstring(L, "%sinterrupted!", lua_tostring(L, -1));
  lua_error(L);
}

void on_sigint(int sig) {
  std::signal(sig, SIG_DFL);
  g_interrupted = 1;
  lua_sethook(g_state, raise_interrupt,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  wake_runtime_loop();  // a blocking proc call may be inside uv_run
}

}  // namespace

void arm_interrupt(lua_State* L) {
  if (g_depth++ > 0) return;
  g_state = L;
  std::signal(SIGINT, on_sigint);
}

void raise_if_interrupted(lua_State* L) {
  if (!g_interrupted) return;
  lua_sethook(L, nullptr, 0, 0);
  g_interrupted = 0;
  luaL_error(L, "interrupted!");
}

void disarm_interrupt() {
  if (--g_depth == 0) std::signal(SIGINT, SIG_DFL);
}

}  // namespace procrun
