// Signalling a child's whole process tree (platform files).
#pragma once

#include <vector>

namespace procrun {
namespace proc {

// A process as seen at one moment: start time tells a pid reused since.
struct ProcId {
  int pid;
  unsigned long long start;
};

// Sends sig to root, to every descendant of root that can be found and,
// if root leads a process group of its own, to that group (which reaches
// descendants whose parents died). Descendants are stopped while they are
// collected, so that none forks out of reach, and continued once
// signalled. Processes in *known, from an earlier call, are signalled too
// if they still exist (root <= 0 signals only those), and those found now
// are added to it: a tree whose root exited on TERM can still be killed.
void signal_tree(int root, int sig, std::vector<ProcId>* known);

}  // namespace proc
}  // namespace procrun
