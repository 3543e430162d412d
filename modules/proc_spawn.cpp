// The parts of spawning every platform shares: uv_spawn for children that
// quick_spawn (platform files) does not take, behind the same ExitWatch.
#include "modules/proc_spawn.hpp"

namespace procrun {
namespace proc {
namespace {

void on_uv_exit(uv_process_t* h, int64_t status, int signal) {
  auto* w = static_cast<ExitWatch*>(h->data);
  w->exited = true;
  w->status = status;
  w->term_signal = signal;
  w->on_ready(w);
}

}  // namespace

int spawn_child(uv_loop_t* loop, uv_process_options_t* o, ExitWatch* w) {
  int rc = quick_spawn(loop, *o, w);
  if (rc != UV_ENOSYS) return rc;
  o->exit_cb = on_uv_exit;
  rc = uv_spawn(loop, &w->h.process, o);
  w->h.process.data = w;
  if (rc == 0) w->pid = w->h.process.pid;
  return rc;
}

bool child_exited(ExitWatch* w, int64_t* status, int* signal) {
  if (w->h.handle.type != UV_PROCESS) return reap_quick(w, status, signal);
  if (!w->exited) return false;
  *status = w->status;
  *signal = w->term_signal;
  return true;
}

bool exit_watch_open(const ExitWatch* w) {
  return w->h.handle.type != UV_UNKNOWN_HANDLE;
}

void close_exit_watch(ExitWatch* w, uv_close_cb cb) {
  uv_close(&w->h.handle, cb);
  release_quick_watch(w);
}

}  // namespace proc
}  // namespace procrun
