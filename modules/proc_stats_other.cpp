// read_process_stats where procrun has no implementation: proc.stats and
// p:stats() return nil, "stats <pid>: ENOSYS: ...", 'ENOSYS'.
// TODO: macOS (proc_pidinfo) and the BSDs (sysctl KERN_PROC) have the
// same figures; nobody builds procrun there yet to test them.
#include <uv.h>

#include "modules/proc_stats.hpp"

namespace procrun {
namespace proc {

int read_process_stats(int, ProcessStats*) {
  return UV_ENOSYS;
}

}  // namespace proc
}  // namespace procrun
