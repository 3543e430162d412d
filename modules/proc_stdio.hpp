// A child's stdio for one spawn (proc_stdio.cpp).
#pragma once

#include "modules/proc.hpp"

namespace procrun {
namespace proc {

struct StdioSetup {
  uv_stdio_container_t io[4];            // the fourth for the launcher's report
  Pipe* ours[3] = {};                    // new pipes, procrun's ends
  uv_file child_only[3] = {-1, -1, -1};  // opened for the child alone
  int failed_fd = -1;                    // which one open_stdio failed on
};

// Opens what s.stdio asks for and fills st->io. Returns 0, or a negative
// libuv error with st->failed_fd set and nothing left open.
int open_stdio(const SpawnSpec& s, StdioSetup* st);

// After a failed spawn: closes everything open_stdio opened.
void close_stdio(StdioSetup* st);

// After a successful spawn: closes the child's ends and the handed-over
// pipe ends, and stores procrun's new ends as fields stdin, stdout,
// stderr of the table on top of the stack.
void finish_stdio(lua_State* L, const SpawnSpec& s, StdioSetup* st, int pid);

// "stdin", "stdout" or "stderr".
const char* stdio_name(int fd);

}  // namespace proc
}  // namespace procrun
