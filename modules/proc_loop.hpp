// proc.loop: the native half of the scheduler (lua/proc/sched.lua). Objects
// that something can wait on (a process, a pipe, a timer) are named by a
// key, a pointer that Lua holds as a light userdata. When an event
// happens, the object calls wake(key); the next poll hands the key to the
// scheduler, which resumes whoever waits on it. Native code never calls
// back into Lua from libuv callbacks.
#pragma once

#include <lua.hpp>

namespace procrun {
namespace proc {

// Queues key for the next poll. Safe to call from any libuv callback.
void wake(const void* key);

}  // namespace proc
}  // namespace procrun

extern "C" int luaopen_proc_loop(lua_State* L);
