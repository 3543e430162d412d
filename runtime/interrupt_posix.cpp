// Ctrl-C and SIGTERM while Lua code runs: the signal handler only installs
// a hook, and the hook raises an error at the next safe point, as luajit
// does for Ctrl-C ("interrupted!"). A second signal before that point
// kills the process the default way.
//
// SIGTERM asks procrun to end, so it ends the script ("terminated"),
// quietly, lets lua_close run finalizers and flush files, and then dies
// of SIGTERM after all (finish_termination), so that whoever sent it sees
// the death it asked for. Its handler does not restart system calls: a
// script blocked in io.read() must see the error too. Code the hook
// cannot reach (a loop compiled to a trace, a C call that retries) gets
// kTermGraceUs; then a SIGALRM ends procrun by SIGTERM the default way.

#include <sys/time.h>

#include <csignal>
#include <cstdio>

#include "runtime/host.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace {

lua_State* volatile g_state = nullptr;
int g_depth = 0;  // call_protected may nest (require inside a chunk)
volatile sig_atomic_t g_pending = 0;      // the signal not yet raised
volatile sig_atomic_t g_terminating = 0;  // a SIGTERM came

constexpr long kTermGraceUs = 500000;

const char* message_for(int sig) {
  return sig == SIGTERM ? "terminated" : "interrupted!";
}

// The signal to raise an error for, once: the hook goes with it.
int take_pending(lua_State* L) {
  int sig = g_pending;
  lua_sethook(L, nullptr, 0, 0);
  g_pending = 0;
  return sig;
}

void raise_pending(lua_State* L, lua_Debug*) {
  int sig = take_pending(L);
  luaL_where(L, 0);
  lua_pushfstring(L, "%s%s", lua_tostring(L, -1), message_for(sig));
  lua_error(L);
}

// The grace is over: if the hook has not run yet, it never will.
void on_term_overdue(int) {
  if (g_pending != SIGTERM) return;
  std::signal(SIGTERM, SIG_DFL);
  std::raise(SIGTERM);
}

void start_term_grace() {
  std::signal(SIGALRM, on_term_overdue);
  struct itimerval t = {};
  t.it_value.tv_usec = kTermGraceUs;
  setitimer(ITIMER_REAL, &t, nullptr);
}

void on_signal(int sig) {
  std::signal(sig, SIG_DFL);
  g_pending = sig;
  lua_sethook(g_state, raise_pending,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  wake_runtime_loop();  // a blocking proc call may be inside uv_run
  if (sig != SIGTERM) return;
  g_terminating = 1;
  start_term_grace();
}

void catch_signal(int sig, bool restart) {
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = restart ? SA_RESTART : 0;
  sigaction(sig, &sa, nullptr);
}

}  // namespace

void arm_interrupt(lua_State* L) {
  if (g_depth++ > 0) return;
  g_state = L;
  catch_signal(SIGINT, /*restart=*/true);
  if (!g_terminating) catch_signal(SIGTERM, /*restart=*/false);
}

void raise_if_interrupted(lua_State* L) {
  if (g_pending) luaL_error(L, "%s", message_for(take_pending(L)));
}

void disarm_interrupt() {
  if (--g_depth > 0) return;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

bool termination_requested() {
  return g_terminating;
}

void finish_termination() {
  if (!g_terminating) return;
  std::fflush(nullptr);
  std::signal(SIGTERM, SIG_DFL);
  std::raise(SIGTERM);
}

}  // namespace procrun
