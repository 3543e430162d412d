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

void release_quick_watch(ExitWatch*) {}

}  // namespace proc
}  // namespace procrun
