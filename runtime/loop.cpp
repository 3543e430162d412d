#include "runtime/loop.hpp"

#include <cstdio>
#include <cstdlib>
#include <vector>

namespace procrun {
namespace {

uv_loop_t g_loop;
uv_async_t g_wakeup;  // lets a signal handler break a blocked uv_run
bool g_loop_ready = false;
std::vector<void (*)(uv_loop_t*)> g_closers;
volatile bool g_wakeup_ready = false;

void on_wakeup(uv_async_t*) {}

}  // namespace

uv_loop_t* runtime_loop() {
  if (g_loop_ready) return &g_loop;
  int rc = uv_loop_init(&g_loop);
  if (rc == 0) rc = uv_async_init(&g_loop, &g_wakeup, on_wakeup);
  if (rc != 0) {
    std::fprintf(stderr, "procrun: cannot create the event loop: %s\n",
                 uv_strerror(rc));
    std::abort();
  }
  // The wakeup alone must not keep uv_run from returning.
  uv_unref(reinterpret_cast<uv_handle_t*>(&g_wakeup));
  g_loop_ready = true;
  g_wakeup_ready = true;
  return &g_loop;
}

void run_loop_once(lua_State* L) {
  uv_run(runtime_loop(), UV_RUN_ONCE);
  raise_if_interrupted(L);
}

void wake_runtime_loop() {
  if (g_wakeup_ready) uv_async_send(&g_wakeup);
}

void at_loop_close(void (*fn)(uv_loop_t*)) {
  g_closers.push_back(fn);
}

void close_runtime_loop() {
  if (!g_loop_ready) return;
  g_wakeup_ready = false;
  for (auto fn : g_closers) fn(&g_loop);
  uv_walk(
      &g_loop,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&g_loop, UV_RUN_DEFAULT);
  // A wake queued while closing stops a round early (see proc.loop): run
  // until every close callback has run and the loop lets go.
  while (uv_loop_close(&g_loop) == UV_EBUSY) uv_run(&g_loop, UV_RUN_NOWAIT);
  g_loop_ready = false;
}

}  // namespace procrun
