// Live CPU and memory figures of one process, for proc.stats and
// p:stats(). The figures are the kernel's own, read on each call.
#pragma once

#include <cstdint>

struct lua_State;

namespace procrun {
namespace proc {

struct ProcessStats {
  uint64_t rss = 0;        // resident memory, bytes
  uint64_t vms = 0;        // virtual memory size, bytes
  uint64_t peak_rss = 0;   // the highest rss so far, bytes
  double cpu_user = 0;     // seconds spent in user mode
  double cpu_sys = 0;      // seconds spent in the kernel
  int64_t threads = 0;     // threads in the process
  double started = 0;      // start time, seconds since the epoch
  const char* state = "";  // "running", "sleeping", "stopped", "zombie"
};

// Fills *out with pid's figures. Returns 0; UV_ESRCH if there is no such
// process (or it vanished while being read); UV_ENOSYS on a platform
// without an implementation; or another negative libuv error. *out is
// unspecified on failure.
int read_process_stats(int pid, ProcessStats* out);

// proc.stats([pid]) -> the figures as a table | nil, message, code. A pid
// that is not an integer >= 0 raises.
int proc_stats(lua_State* L);

}  // namespace proc
}  // namespace procrun
