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

// Asks each of package.loaders for module name, as require does, and
// returns the first loader found, without running it.
int find_loader(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaders");
  if (!lua_istable(L, -1)) luaL_error(L, "'package.loaders' must be a table");
  luaL_Buffer msg;
  luaL_buffinit(L, &msg);
  for (int i = 1;; i++) {
    lua_rawgeti(L, 3, i);
    if (lua_isnil(L, -1)) {
      luaL_pushresult(&msg);
      return luaL_error(L, "module '%s' not found:%s", name,
                        lua_tostring(L, -1));
    }
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isfunction(L, -1)) return 1;
    if (lua_isstring(L, -1))
      luaL_addvalue(&msg);
    else
      lua_pop(L, 1);
  }
}

}  // namespace

int load_module_chunk(lua_State* L, const char* name) {
  lua_pushcfunction(L, find_loader);
  lua_pushstring(L, name);
  return lua_pcall(L, 1, 1, 0);
}

void insert_searcher(lua_State* L, lua_CFunction searcher, int pos) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "loaders");
  int n = static_cast<int>(lua_objlen(L, -1));
  for (int i = n; i >= pos; i--) {  // shift entries pos..n up by one
    lua_rawgeti(L, -1, i);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushcfunction(L, searcher);
  lua_rawseti(L, -2, pos);
  lua_pop(L, 2);
}

void install_builtin_searcher(lua_State* L) {
  insert_searcher(L, builtin_searcher, 2);
}

}  // namespace procrun
