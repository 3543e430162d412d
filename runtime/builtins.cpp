#include "runtime/builtins.hpp"

#include <cstring>

namespace procrun {
namespace {

const EmbeddedChunk* find_chunk(const char* name) {
  for (const EmbeddedChunk* c = kEmbeddedLua; c->name; c++)
    if (std::strcmp(c->name, name) == 0) return c;
  return nullptr;
}

lua_CFunction find_native(const char* name) {
  for (const NativeModule* m = kNativeModules; m->name; m++)
    if (std::strcmp(m->name, name) == 0) return m->open;
  return nullptr;
}

// A package.loaders entry: returns the module's loader, or a string saying
// why it has none, which require appends to its "module not found" error.
int builtin_searcher(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);

  if (lua_CFunction open = find_native(name)) {
    lua_pushcfunction(L, open);
    return 1;
  }
  if (const EmbeddedChunk* c = find_chunk(name)) {
    // The bytecode carries its own chunk name, given at build time.
    if (luaL_loadbuffer(L, reinterpret_cast<const char*>(c->data), c->size,
                        name) != 0)
      return luaL_error(L, "error loading built-in module '%s': %s", name,
                        lua_tostring(L, -1));
    return 1;
  }
  lua_pushfstring(L, "\n\tno built-in module '%s'", name);
  return 1;
}

}  // namespace

void install_builtin_searcher(lua_State* L) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaders");
  int n = static_cast<int>(lua_objlen(L, -1));
  for (int i = n; i >= 2; i--) {  // shift entries 2..n up by one
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, builtin_searcher);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 2);
}

}  // namespace procrun
