// Process trees where procrun cannot list processes yet: the root and the
// process group it leads are all a tree kill reaches.
// TODO: walk descendants with sysctl(KERN_PROC) on macOS and BSD.
#include <signal.h>
#include <unistd.h>

#include "modules/proc_tree.hpp"

namespace procrun {
namespace proc {

void signal_tree(int root, int sig, std::vector<ProcId>*) {
  if (root <= 0) return;
  if (getpgid(root) == root) kill(-root, sig);
  kill(root, sig);
}

}  // namespace proc
}  // namespace procrun
