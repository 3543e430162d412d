// The interactive loop of -i, as luajit's: "> " and ">> " prompts (or the
// globals _PROMPT and _PROMPT2), "=expr" prints expr, and a chunk that
// ends too early keeps reading lines until it compiles.

#include <cstdio>
#include <cstring>
#include <string>

#include "runtime/host.hpp"

namespace procrun {
namespace {

const char* prompt(lua_State* L, bool first) {
  lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2");
  const char* p = lua_tostring(L, -1);
  lua_pop(L, 1);  // the string stays reachable through the global
  return p ? p : first ? "> " : ">> ";
}

// Reads one line without its newline; false at end of input.
bool read_line(lua_State* L, bool first, std::string* line) {
  std::fputs(prompt(L, first), stdout);
  std::fflush(stdout);
  line->clear();
  char buf[512];
  while (std::fgets(buf, sizeof buf, stdin)) {
    line->append(buf);
    if (!line->empty() && line->back() == '\n') {
      line->pop_back();
      return true;
    }
  }
  return !line->empty();
}

bool incomplete(lua_State* L, int status) {
  if (status != LUA_ERRSYNTAX) return false;
  size_t len;
  const char* msg = lua_tolstring(L, -1, &len);
  const char* eof = "'<eof>'";
  size_t n = std::strlen(eof);
  return len >= n && std::strcmp(msg + len - n, eof) == 0;
}

// Compiles the next chunk onto the stack. Returns the load status, or -1
// at end of input.
int load_chunk(lua_State* L) {
  std::string line;
  if (!read_line(L, true, &line)) return -1;
  std::string chunk = line[0] == '=' ? "return " + line.substr(1) : line;
  for (;;) {
    int status = luaL_loadbuffer(L, chunk.data(), chunk.size(), "=stdin");
    if (!incomplete(L, status) || !read_line(L, false, &line)) return status;
    lua_pop(L, 1);
    chunk += "\n" + line;
  }
}

// Prints the values above base with the global print.
void print_results(lua_State* L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  lua_getglobal(L, "print");
  lua_insert(L, base + 1);
  if (lua_pcall(L, n, 0, 0) != 0) {
    lua_pushfstring(L, "error calling 'print' (%s)", lua_tostring(L, -1));
    print_message(lua_tostring(L, -1));
  }
}

}  // namespace

void run_repl(lua_State* L) {
  int base = lua_gettop(L);
  int status;
  while ((status = load_chunk(L)) != -1) {
    if (status == 0) status = call_protected(L, 0, LUA_MULTRET);
    report(L, status);
    if (status == 0) print_results(L, base);
    lua_settop(L, base);
  }
  std::fputs("\n", stdout);
  std::fflush(stdout);
}

}  // namespace procrun
