// The one recipe for OS failures: nil, "<operation> '<subject>': <ENAME>:
// <description>", "ENAME". Scripts match on the code, people read the
// message.
#include <cstdarg>

#include "modules/proc.hpp"

namespace procrun {
namespace proc {

namespace {

// The _r variants: the plain ones leak a string for unknown codes.
void describe(int code, char (&name)[64], char (&text)[128]) {
  if (code == kErrNoExec) {
    std::snprintf(name, sizeof name, "ENOEXEC");
    std::snprintf(text, sizeof text, "exec format error");
    return;
  }
  uv_err_name_r(code, name, sizeof name);
  uv_strerror_r(code, text, sizeof text);
}

}  // namespace

int push_os_error(lua_State* L, int code, const char* note) {
  char name[64], text[128];
  describe(code, name, text);
  const char* head = lua_tostring(L, -1);
  if (note)
    lua_pushfstring(L, "%s: %s: %s (%s)", head, name, text, note);
  else
    lua_pushfstring(L, "%s: %s: %s", head, name, text);
  lua_replace(L, -2);
  lua_pushnil(L);
  lua_insert(L, -2);
  lua_pushstring(L, name);
  return 3;
}

int push_os_errorf(lua_State* L, int code, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  return push_os_error(L, code);
}

}  // namespace proc
}  // namespace procrun
