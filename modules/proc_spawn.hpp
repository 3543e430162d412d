// Starting a child without uv_spawn where the platform has a cheaper way
// (platform files). uv_spawn forks: the kernel copies procrun's page
// tables only for exec to throw them away, and every SIGCHLD costs a
// waitpid per live child. Where a child can borrow the parent's memory
// until it execs (vfork) and its exit can be watched one child at a time,
// procrun spawns that way and keeps uv_spawn for the rest.
#pragma once

#include <uv.h>

#include <cstdint>
#include <cstring>

namespace procrun {
namespace proc {

struct ExitWatch;
using ExitReadyFn = void (*)(ExitWatch* w);

// How procrun learns that a quickly spawned child has exited: a handle
// whose callback, on_ready, runs when it may have.
struct ExitWatch {
  union {
    uv_handle_t handle;
    uv_poll_t poll;
    uv_signal_t signal;
  } h;
  int fd = -1;  // what h.poll watches, or -1 if h.signal is used
  int pid = 0;
  ExitReadyFn on_ready = nullptr;  // set by the caller, as is data
  void* data = nullptr;

  ExitWatch() { std::memset(&h, 0, sizeof h); }
};

// Starts the child o describes (file, args, env, cwd, UV_INHERIT_FD
// stdio, UV_PROCESS_DETACHED) and the watch on its exit; sets w->pid.
// Returns 0, UV_ENOSYS when this platform or these options need uv_spawn
// (nothing was started), or another negative libuv error: then no child
// is left running, but the watch may be open (exit_watch_open).
int quick_spawn(uv_loop_t* loop, const uv_process_options_t& o, ExitWatch* w);

// Whether quick_spawn starts children here (given the stdio and flags
// spawn_process uses). Its exec never hands a file it cannot run to
// /bin/sh, as uv_spawn's execvp does, so procrun's own check of the
// file's format is needed only where this is false.
bool quick_spawn_available();

// From on_ready: reaps the child if it has exited, stops the watch and
// returns true with its exit status and terminating signal (0 if none).
bool reap_quick(ExitWatch* w, int64_t* status, int* signal);

// Whether w's handle was initialized and so must be closed.
bool exit_watch_open(const ExitWatch* w);

// Closes the watch; cb runs when its handle has closed.
void close_exit_watch(ExitWatch* w, uv_close_cb cb);

}  // namespace proc
}  // namespace procrun
