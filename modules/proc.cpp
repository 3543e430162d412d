// luaopen_proc_core: the functions of proc.core; the process methods live
// with the process object (proc_process.cpp).
#include "modules/proc.hpp"

#include "modules/proc_pipe.hpp"
#include "modules/proc_stats.hpp"

namespace procrun {
namespace proc {
namespace {

// The spec's memory goes back as soon as the call is done, not whenever
// the GC gets to it: os.exit may end the process with no lua_close.
int spawn(lua_State* L, SpawnSpec* s) {
  int n = prepare_spawn(L, *s);
  if (n == 0) n = spawn_process(L, *s);
  s->~SpawnSpec();  // assigning would keep the strings' buffers
  new (s) SpawnSpec();
  return n;
}

int proc_exec(lua_State* L) {
  return spawn(L, check_exec_args(L));
}

int proc_exec_luafile(lua_State* L) {
  return spawn(L, check_luafile_args(L));
}

int proc_shell(lua_State* L) {
  return spawn(L, check_shell_args(L));
}

const luaL_Reg kFunctions[] = {
    {"env", guarded<proc_env>},
    {"exec", guarded<proc_exec>},
    {"exec_luafile", guarded<proc_exec_luafile>},
    {"process_key", process_key},
    {"setenv", guarded<proc_setenv>},
    {"shell", guarded<proc_shell>},
    {"stats", guarded<proc_stats>},
    {nullptr, nullptr},
};

}  // namespace
}  // namespace proc
}  // namespace procrun

// The module table also carries, for lua/proc.lua, the process methods
// (process_methods) and the pipe primitives (pipe).
extern "C" int luaopen_proc_core(lua_State* L) {
  using namespace procrun::proc;
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  register_process_type(L);
  lua_setfield(L, -2, "process_methods");
  register_pipe_type(L);
  lua_setfield(L, -2, "pipe");
  return 1;
}
