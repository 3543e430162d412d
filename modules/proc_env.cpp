// proc.env and proc.setenv: this process's environment, through libuv so
// that os.getenv and children spawned later see every change.
#include <cstring>

#include "modules/proc.hpp"

namespace procrun {
namespace proc {
namespace {

const char* check_name(lua_State* L, int arg) {
  size_t len;
  const char* name = luaL_checklstring(L, arg, &len);
  if (!valid_env_name(name, len))
    luaL_argerror(L, arg, lua_pushfstring(L, "bad variable name '%s'", name));
  return name;
}

int push_environ(lua_State* L) {
  uv_env_item_t* items;
  int count;
  if (int rc = uv_os_environ(&items, &count))
    return push_os_errorf(L, rc, "env");
  lua_createtable(L, 0, count);
  for (int i = 0; i < count; i++) {
    lua_pushstring(L, items[i].value);
    lua_setfield(L, -2, items[i].name);
  }
  uv_os_free_environ(items, count);
  return 1;
}

}  // namespace

bool valid_env_name(const char* name, size_t len) {
  return len > 0 && std::strlen(name) == len && !std::memchr(name, '=', len);
}

int getenv_value(const char* name, std::string* value) {
  char small[256];
  size_t size = sizeof small;
  int rc = uv_os_getenv(name, small, &size);
  if (rc == 0) value->assign(small, size);
  if (rc != UV_ENOBUFS) return rc;
  value->resize(size);  // size now counts the terminating NUL
  rc = uv_os_getenv(name, &(*value)[0], &size);
  value->resize(rc == 0 ? size : 0);
  return rc;
}

int read_environ(std::vector<std::string>* out) {
  uv_env_item_t* items;
  int count;
  if (int rc = uv_os_environ(&items, &count)) return rc;
  for (int i = 0; i < count; i++)
    out->push_back(std::string(items[i].name) + '=' + items[i].value);
  uv_os_free_environ(items, count);
  return 0;
}

int proc_env(lua_State* L) {
  if (lua_isnoneornil(L, 1)) return push_environ(L);
  const char* name = check_name(L, 1);
  std::string value;
  int rc = getenv_value(name, &value);
  if (rc == UV_ENOENT) {
    lua_pushnil(L);
    return 1;
  }
  if (rc) return push_os_errorf(L, rc, "env '%s'", name);
  lua_pushlstring(L, value.data(), value.size());
  return 1;
}

// setenv(name, value) sets; a nil or false value removes.
int proc_setenv(lua_State* L) {
  const char* name = check_name(L, 1);
  int rc;
  if (lua_isnoneornil(L, 2) ||
      (lua_type(L, 2) == LUA_TBOOLEAN && !lua_toboolean(L, 2))) {
    rc = uv_os_unsetenv(name);
  } else {
    size_t len;
    const char* value = luaL_checklstring(L, 2, &len);
    if (std::strlen(value) != len)
      luaL_argerror(L, 2, "value contains a NUL byte");
    rc = uv_os_setenv(name, value);
  }
  if (rc) return push_os_errorf(L, rc, "setenv '%s'", name);
  lua_pushboolean(L, 1);
  return 1;
}

}  // namespace proc
}  // namespace procrun
