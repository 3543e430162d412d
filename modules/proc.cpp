// luaopen_proc_core: the functions of proc.core; the process methods live
// with the process object (proc_process.cpp).
#include "modules/proc.hpp"

namespace procrun {
namespace proc {
namespace {

int spawn(lua_State* L, SpawnSpec* s) {
  if (int n = prepare_spawn(L, *s)) return n;
  return spawn_process(L, *s);
}

int proc_exec(lua_State* L) { return spawn(L, check_exec_args(L)); }

int proc_exec_luafile(lua_State* L) {
  return spawn(L, check_luafile_args(L));
}

int proc_shell(lua_State* L) { return spawn(L, check_shell_args(L)); }

const luaL_Reg kFunctions[] = {
    {"env", guarded<proc_env>},
    {"exec", guarded<proc_exec>},
    {"exec_luafile", guarded<proc_exec_luafile>},
    {"setenv", guarded<proc_setenv>},
    {"shell", guarded<proc_shell>},
    {nullptr, nullptr},
};

}  // namespace
}  // namespace proc
}  // namespace procrun

extern "C" int luaopen_proc_core(lua_State* L) {
  procrun::proc::register_process_type(L);
  lua_newtable(L);
  luaL_register(L, nullptr, procrun::proc::kFunctions);
  return 1;
}
