// Native modules built into procrun, by require name.
#include "runtime/builtins.hpp"

extern "C" int luaopen_proc_bundle(lua_State* L);
extern "C" int luaopen_proc_core(lua_State* L);
extern "C" int luaopen_proc_loop(lua_State* L);
extern "C" int luaopen_proc_sync_core(lua_State* L);

namespace procrun {

extern const NativeModule kNativeModules[] = {
    {"proc.bundle", luaopen_proc_bundle},
    {"proc.core", luaopen_proc_core},
    {"proc.loop", luaopen_proc_loop},
    {"proc.sync_core", luaopen_proc_sync_core},
    {nullptr, nullptr},
};

}  // namespace procrun
