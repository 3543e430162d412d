// Platforms without a quick spawn path: every child goes through uv_spawn.
// TODO: posix_spawn with a kqueue EVFILT_PROC watch on macOS and BSD.
#include "modules/proc_spawn.hpp"

namespace procrun {
namespace proc {

int quick_spawn(uv_loop_t*, const uv_process_options_t&, ExitWatch*) {
  return UV_ENOSYS;
}

bool quick_spawn_available() {
  return false;
}

bool reap_quick(ExitWatch*, int64_t*, int*) {
  return false;
}

bool exit_watch_open(const ExitWatch*) {
  return false;
}

void close_exit_watch(ExitWatch* w, uv_close_cb cb) {
  uv_close(&w->h.handle, cb);
}

}  // namespace proc
}  // namespace procrun
