// Modules built into the binary: Lua chunks compiled at build time and
// native (C++) modules. require finds them before the file system.
#pragma once

#include <cstddef>
#include <lua.hpp>

namespace procrun {

struct EmbeddedChunk {
  const char* name;           // module name as given to require
  const unsigned char* data;  // LuaJIT bytecode
  size_t size;
};

struct NativeModule {
  const char* name;
  lua_CFunction open;
};

// Both tables end with an entry whose name is null. kEmbeddedLua is
// generated from lua/ by tools/embed_lua.cpp; kNativeModules lives in
// modules/registry.cpp.
extern const EmbeddedChunk kEmbeddedLua[];
extern const NativeModule kNativeModules[];

// Inserts searcher into package.loaders at index pos, moving the entries
// from pos on up by one. Expects the package library to be open.
void insert_searcher(lua_State* L, lua_CFunction searcher, int pos);

// Inserts the built-in searcher right after the preload searcher.
void install_builtin_searcher(lua_State* L);

// Pushes the chunk require would run for module name (for procrun -m),
// or require's "module not found" message. Returns the lua_pcall status.
int load_module_chunk(lua_State* L, const char* name);

}  // namespace procrun
