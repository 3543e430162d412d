// Process trees on Linux, from /proc: each /proc/PID/stat names the
// parent (field 4) and the start time (field 22).
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "modules/proc_tree.hpp"

namespace procrun {
namespace proc {
namespace {

struct Stat {
  int ppid;
  unsigned long long start;
};

// Reads ppid and start time; false if the process is gone.
bool read_stat(int pid, Stat* st) {
  char path[64], buf[1024];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE* f = std::fopen(path, "re");
  if (!f) return false;
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the name may hold anything
  if (!p) return false;
  // After ") ": state ppid pgrp session tty tpgid flags minflt cminflt
  // majflt cmajflt utime stime cutime cstime priority nice threads
  // itrealvalue starttime.
  char state;
  unsigned long long skip;
  int ppid;
  unsigned long long start;
  int got = std::sscanf(p + 2,
                        "%c %d %llu %llu %llu %llu %llu %llu %llu "
                        "%llu %llu %llu %llu %llu %llu %llu %llu %llu "
                        "%llu %llu",
                        &state, &ppid, &skip, &skip, &skip, &skip, &skip, &skip,
                        &skip, &skip, &skip, &skip, &skip, &skip, &skip, &skip,
                        &skip, &skip, &skip, &start);
  if (got != 20) return false;
  st->ppid = ppid;
  st->start = start;
  return true;
}

// Every process now: pid -> its stat.
std::unordered_map<int, Stat> snapshot() {
  std::unordered_map<int, Stat> all;
  DIR* d = opendir("/proc");
  if (!d) return all;
  while (dirent* e = readdir(d)) {
    int pid = std::atoi(e->d_name);
    Stat st;
    if (pid > 0 && read_stat(pid, &st)) all[pid] = st;
  }
  closedir(d);
  return all;
}

bool contains(const std::vector<ProcId>& v, int pid) {
  for (const ProcId& p : v)
    if (p.pid == pid) return true;
  return false;
}

// Adds the descendants of the processes in tree not yet in it, stopping
// each; returns how many were added.
size_t grow(std::vector<ProcId>* tree) {
  std::unordered_map<int, Stat> all = snapshot();
  size_t added = 0;
  for (size_t i = 0; i < tree->size(); i++) {
    int parent = (*tree)[i].pid;
    for (const auto& e : all) {
      if (e.second.ppid != parent || contains(*tree, e.first)) continue;
      kill(e.first, SIGSTOP);
      tree->push_back({e.first, e.second.start});
      added++;
    }
  }
  return added;
}

bool still_same(const ProcId& p) {
  Stat st;
  return read_stat(p.pid, &st) && st.start == p.start;
}

}  // namespace

void signal_tree(int root, int sig, std::vector<ProcId>* known) {
  Stat st;
  std::vector<ProcId> tree;
  if (root > 0 && read_stat(root, &st)) {
    kill(root, SIGSTOP);
    tree.push_back({root, st.start});
  }
  for (const ProcId& p : *known)
    if (!contains(tree, p.pid) && still_same(p)) {
      kill(p.pid, SIGSTOP);
      tree.push_back(p);
    }
  // A process stopped mid-fork may still bring one more child: look again
  // until a pass finds nothing new (bounded, in case of a fork bomb).
  for (int pass = 0; pass < 8 && grow(&tree) > 0; pass++) {
  }
  bool group = root > 0 && getpgid(root) == root;  // never kill(-1)
  if (group) kill(-root, sig);
  for (const ProcId& p : tree) kill(p.pid, sig);
  bool stopping =
      sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
  if (!stopping) {
    for (const ProcId& p : tree) kill(p.pid, SIGCONT);
    if (group) kill(-root, SIGCONT);
  }
  for (const ProcId& p : tree)
    if (!contains(*known, p.pid)) known->push_back(p);
}

}  // namespace proc
}  // namespace procrun
