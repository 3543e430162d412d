// proc.bundle: the data files of the bundle this executable carries.
// Without a bundle there are none: read finds nothing, list is empty.
#include "runtime/bundle.hpp"

namespace procrun {
namespace {

// Names the function itself: luaL_checklstring finds no name when read is
// called through pcall or as a tail call, and says '?'.
int bundle_read(lua_State* L) {
  if (!lua_isstring(L, 1))
    return luaL_error(L, "bad argument #1 to 'read' (string expected, got %s)",
                      luaL_typename(L, 1));
  size_t len;
  const char* path = lua_tolstring(L, 1, &len);
  const BundleEntry* e = bundle_find({path, len});
  if (e && e->kind == BundleKind::kData) {
    lua_pushlstring(L, e->data.data(), e->data.size());
    return 1;
  }
  lua_pushnil(L);
  lua_pushfstring(L, "bundle.read '%s': ENOENT: no such file in the bundle",
                  path);
  lua_pushliteral(L, "ENOENT");
  return 3;
}

int bundle_list(lua_State* L) {
  lua_newtable(L);
  int n = 0;
  for (const BundleEntry& e : bundle_entries()) {
    if (e.kind != BundleKind::kData) continue;
    lua_pushlstring(L, e.path.data(), e.path.size());
    lua_rawseti(L, -2, ++n);
  }
  return 1;
}

const luaL_Reg kFunctions[] = {
    {"list", bundle_list},
    {"read", bundle_read},
    {nullptr, nullptr},
};

}  // namespace
}  // namespace procrun

extern "C" int luaopen_proc_bundle(lua_State* L) {
  lua_newtable(L);
  luaL_register(L, nullptr, procrun::kFunctions);
  if (procrun::have_bundle()) {
    const std::string& path = procrun::bundle_exe_path();
    lua_pushlstring(L, path.data(), path.size());
    lua_setfield(L, -2, "path");
  }
  return 1;
}
