// Starting a child and learning when it exits. uv_spawn forks: the kernel
// copies procrun's page tables only for exec to throw them away, and every
// SIGCHLD costs a waitpid per live child. Where the platform has a cheaper
// way (a child that borrows the parent's memory until it execs, an exit
// watched one child at a time), quick_spawn in its platform file takes
// it; uv_spawn does the rest. Either way the caller sees one ExitWatch.
#pragma once

#include <uv.h>

#include <cstdint>
#include <cstring>

namespace procrun {
namespace proc {

struct ExitWatch;
using ExitReadyFn = void (*)(ExitWatch* w);

// The handle watching a child: the uv_process_t of a uv_spawn, or what
// quick_spawn watches with. on_ready runs when the child may have exited.
struct ExitWatch {
  union {
    uv_handle_t handle;
    uv_process_t process;
    uv_poll_t poll;
    uv_signal_t signal;
  } h;
  int fd = -1;  // what h.poll watches, if it is used
  int pid = 0;
  bool exited = false;  // uv_spawn's exit callback came, with these:
  int64_t status = 0;
  int term_signal = 0;
  ExitReadyFn on_ready = nullptr;  // set by the caller, as is data
  void* data = nullptr;

  ExitWatch() { std::memset(&h, 0, sizeof h); }
};

// Starts the child o describes (file, args, env, cwd, UV_INHERIT_FD
// stdio, UV_PROCESS_DETACHED) and the watch on its exit; sets w->pid.
// Returns 0 or a negative libuv error: then no child is left running,
// but the watch may be open (exit_watch_open). o.exit_cb is its own.
int spawn_child(uv_loop_t* loop, uv_process_options_t* o, ExitWatch* w);

// From on_ready: if the child has exited (and is reaped), stops the watch
// and returns true with its exit status and terminating signal (0 if
// none).
bool child_exited(ExitWatch* w, int64_t* status, int* signal);

// Whether w's handle was initialized and so must be closed.
bool exit_watch_open(const ExitWatch* w);

// Closes the watch; cb runs when its handle has closed.
void close_exit_watch(ExitWatch* w, uv_close_cb cb);

// Platform files. quick_spawn: as spawn_child, or UV_ENOSYS (nothing
// started) where this platform or these options need uv_spawn.
int quick_spawn(uv_loop_t* loop, const uv_process_options_t& o, ExitWatch* w);

// Whether quick_spawn starts children here (given the stdio and flags
// spawn_process uses). Its exec never hands a file it cannot run to
// /bin/sh, as uv_spawn's execvp does, so procrun's own check of the
// file's format is needed only where this is false.
bool quick_spawn_available();

// child_exited for a quick child: reaps it if it has exited.
bool reap_quick(ExitWatch* w, int64_t* status, int* signal);

// What closing a quick child's watch frees besides its handle.
void release_quick_watch(ExitWatch* w);

}  // namespace proc
}  // namespace procrun
