// Pipe ends to and from children. A pipe object is a Lua userdata of type
// "pipe" that owns a heap Pipe holding the uv_pipe_t. Ends procrun reads
// start reading at once and keep reading into a buffer whenever the loop
// runs, so a child never stalls on a full pipe and nothing it wrote is
// lost when it exits. Blocking (read until a line, write until taken)
// lives in lua/proc/pipe.lua, on the scheduler's wait.
#pragma once

#include <uv.h>

#include <lua.hpp>

namespace procrun {
namespace proc {

struct Pipe;

// Makes a pipe for a child's stdio: *ours stays with procrun (reading if
// we_read), *child_fd is the end to hand to the child; the caller closes
// child_fd once the child has it. Returns 0 or a negative libuv error.
int open_child_pipe(bool we_read, Pipe** ours, uv_file* child_fd);

// Pushes the userdata for a Pipe from open_child_pipe, which it now owns.
void push_pipe(lua_State* L, Pipe* p);

// The Pipe behind the pipe userdata at idx, or null if idx is not one.
Pipe* to_pipe(lua_State* L, int idx);

// The descriptor of a still-open pipe end, or -1.
uv_file pipe_fd(Pipe* p);

// True if procrun reads from this end (a child's stdout or stderr).
bool pipe_reads(Pipe* p);

// True if bytes have been received and not yet read.
bool pipe_buffered(Pipe* p);

// Starts reading on ends created since the last call. Ends wait for the
// first poll of the loop, so that one can still be handed to another
// child (stdin = p1.stdout) before procrun has taken anything from it.
void start_new_pipes();

// Names the end in error messages ("stdin of process 42").
void set_pipe_name(Pipe* p, const char* name);

// Closes and frees a Pipe that was never pushed to Lua.
void discard_pipe(Pipe* p);

// Closes the end (pending writes are dropped). Idempotent.
void close_pipe(Pipe* p);

// Creates the "pipe" metatable and returns the pipe primitives as a
// table on the stack (used by lua/proc/pipe.lua).
void register_pipe_type(lua_State* L);

}  // namespace proc
}  // namespace procrun
