// Connecting a child's stdin, stdout and stderr for one spawn. Every kind
// comes down to a descriptor the child inherits (libuv dups it onto 0, 1
// or 2); what procrun opened only for the child is closed once the child
// has it, and a pipe end handed to the child is closed here too, so the
// reader on the other side sees the end of the stream when it should.
#include "modules/proc_stdio.hpp"

#include "modules/proc_pipe.hpp"

namespace procrun {
namespace proc {

// Platform parts (proc_pipe_posix.cpp).
int open_null_device(bool for_write, uv_file* fd);
void close_os_fd(uv_file fd);

namespace {

const char* const kNames[] = {"stdin", "stdout", "stderr"};

// Opens what fd of the child needs and returns the descriptor to give it.
int open_one(const StdioSpec& spec, int fd, StdioSetup* st, uv_file* out) {
  switch (spec.kind) {
    case StdioKind::kInherit:
      *out = fd;
      return 0;
    case StdioKind::kFd:
      *out = spec.fd;
      return 0;
    case StdioKind::kStdout:
      *out = st->io[1].data.fd;
      return 0;
    case StdioKind::kNull:
      if (int rc = open_null_device(fd != 0, out)) return rc;
      break;
    case StdioKind::kPipe:
      if (int rc = open_child_pipe(fd != 0, &st->ours[fd], out)) return rc;
      break;
  }
  st->child_only[fd] = *out;
  return 0;
}

void close_child_ends(StdioSetup* st) {
  for (uv_file& fd : st->child_only) {
    if (fd >= 0) close_os_fd(fd);
    fd = -1;
  }
}

}  // namespace

int open_stdio(const SpawnSpec& s, StdioSetup* st) {
  for (int fd = 0; fd < 3; fd++) {
    uv_file child_fd;
    if (int rc = open_one(s.stdio[fd], fd, st, &child_fd)) {
      st->failed_fd = fd;
      close_stdio(st);
      return rc;
    }
    st->io[fd].flags = UV_INHERIT_FD;
    st->io[fd].data.fd = child_fd;
  }
  return 0;
}

void close_stdio(StdioSetup* st) {
  close_child_ends(st);
  for (Pipe*& p : st->ours) {
    if (p) discard_pipe(p);
    p = nullptr;
  }
}

const char* stdio_name(int fd) {
  return kNames[fd];
}

void finish_stdio(lua_State* L, const SpawnSpec& s, StdioSetup* st, int pid) {
  close_child_ends(st);
  for (int fd = 0; fd < 3; fd++) {
    if (s.stdio[fd].handed) close_pipe(s.stdio[fd].handed);
    if (!st->ours[fd]) continue;
    set_pipe_name(st->ours[fd],
                  lua_pushfstring(L, "%s of process %d", kNames[fd], pid));
    lua_pop(L, 1);
    push_pipe(L, st->ours[fd]);
    lua_setfield(L, -2, kNames[fd]);
    st->ours[fd] = nullptr;
  }
}

}  // namespace proc
}  // namespace procrun
