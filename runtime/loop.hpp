// The one event loop the runtime owns. It is created on first use, so
// scripts that never touch it pay nothing at start-up.
#pragma once

#include <uv.h>

#include <lua.hpp>

namespace procrun {

// The loop, created on the first call. Aborts if libuv cannot create it
// (it only fails when the process is out of file descriptors or memory).
uv_loop_t* runtime_loop();

// Runs the loop for one round of events (UV_RUN_ONCE), returning early
// when Ctrl-C arrives; then raises "interrupted!" if it did. Blocking
// calls loop on this until their condition holds.
void run_loop_once(lua_State* L);

// Registers fn to run when the loop is about to close, so a module can
// close its own handles with its own callbacks (and free what they hold).
void at_loop_close(void (*fn)(uv_loop_t*));

// Runs the at_loop_close functions, closes every handle still open and
// frees the loop, if there is one. Called by the host after lua_close.
void close_runtime_loop();

// Async-signal-safe: wakes the loop if it is blocked (host's SIGINT).
void wake_runtime_loop();

// Raises "interrupted!" if Ctrl-C arrived since the last check (host).
void raise_if_interrupted(lua_State* L);

}  // namespace procrun
