// Reading the arguments of exec, exec_luafile and shell into a SpawnSpec:
// the positional form exec(cmd, args, env, dir) and the options table
// exec{cmd=, args=, env=, setenv=, dir=}. One small reader per group of
// fields; a new group adds its keys to the lists below and one call.
#include <algorithm>
#include <cstdarg>
#include <cstring>

#include "modules/proc.hpp"
#include "modules/proc_pipe.hpp"

namespace procrun {
namespace proc {
namespace {

const char kSpecType[] = "proc.spawnspec";

// Every spawning function takes these; exec and exec_luafile add theirs.
#define PROC_COMMON_KEYS                                                       \
  "autokill", "detached", "dir", "env", "limits", "setenv", "stderr", "stdin", \
      "stdout", "timeout"
const char* const kExecKeys[] = {"args", "cmd", PROC_COMMON_KEYS, nullptr};
const char* const kLuafileKeys[] = {"args", "module", "script",
                                    PROC_COMMON_KEYS, nullptr};
const char* const kShellKeys[] = {PROC_COMMON_KEYS, nullptr};
#undef PROC_COMMON_KEYS

// Where a value came from, for "bad argument" messages: the argument
// number and, in the options table, the field.
struct Where {
  int arg;
  const char* field;  // null for a positional argument
};

int arg_error(lua_State* L, Where w, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char* msg = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  if (w.field) msg = lua_pushfstring(L, "field '%s': %s", w.field, msg);
  return luaL_argerror(L, w.arg, msg);
}

int gc_spec(lua_State* L) {
  static_cast<SpawnSpec*>(lua_touserdata(L, 1))->~SpawnSpec();
  return 0;
}

// The spec goes above the arguments: nargs fixes where they end.
SpawnSpec* new_spec(lua_State* L, const char* op, int nargs) {
  lua_settop(L, nargs);
  void* mem = lua_newuserdata(L, sizeof(SpawnSpec));
  if (luaL_newmetatable(L, kSpecType)) {
    lua_pushcfunction(L, gc_spec);
    lua_setfield(L, -2, "__gc");
  }
  auto* s = new (mem) SpawnSpec();  // before __gc can see the memory
  lua_setmetatable(L, -2);
  s->op = op;
  return s;
}

// The string at idx (a number too, if numbers), without NUL bytes.
const char* check_text(lua_State* L, int idx, Where w, bool numbers,
                       size_t* len, const char* item = "") {
  int t = lua_type(L, idx);
  if (t != LUA_TSTRING && !(numbers && t == LUA_TNUMBER))
    arg_error(L, w, "%sstring expected, got %s", item, luaL_typename(L, idx));
  const char* s = lua_tolstring(L, idx, len);
  if (std::strlen(s) != *len) arg_error(L, w, "%scontains a NUL byte", item);
  return s;
}

void check_table(lua_State* L, int idx, Where w) {
  if (!lua_istable(L, idx))
    arg_error(L, w, "table expected, got %s", luaL_typename(L, idx));
}

// Appends the array items of the table at idx to s.args.
void read_items(lua_State* L, int idx, Where w, SpawnSpec& s) {
  int n = static_cast<int>(lua_objlen(L, idx));
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    size_t len;
    const char* item = lua_pushfstring(L, "item %d: ", i);
    const char* a = check_text(L, -2, w, /*numbers=*/true, &len, item);
    s.args.emplace_back(a, len);
    lua_pop(L, 2);
  }
}

void read_args(lua_State* L, int idx, Where w, SpawnSpec& s) {
  if (lua_isnil(L, idx)) return;
  check_table(L, idx, w);
  read_items(L, idx, w, s);
}

void read_cmd(lua_State* L, int idx, Where w, SpawnSpec& s) {
  size_t len;
  if (lua_istable(L, idx)) {
    read_items(L, idx, w, s);
    if (s.args.empty()) arg_error(L, w, "empty command");
  } else {
    const char* cmd = check_text(L, idx, w, /*numbers=*/false, &len);
    s.args.emplace_back(cmd, len);
  }
  if (s.args[0].empty()) arg_error(L, w, "empty command");
  s.program = s.subject = s.args[0];
}

// The key at -2 and the value at -1 of a lua_next step, as NAME, value.
const char* check_var(lua_State* L, Where w, size_t* len) {
  if (lua_type(L, -2) != LUA_TSTRING)
    arg_error(L, w, "variable name expected, got %s", luaL_typename(L, -2));
  const char* name = lua_tolstring(L, -2, len);
  if (!valid_env_name(name, *len))
    arg_error(L, w, "bad variable name '%s'", name);
  return name;
}

void read_env(lua_State* L, int idx, Where w, SpawnSpec& s) {
  if (lua_isnil(L, idx)) return;
  check_table(L, idx, w);
  s.has_env = true;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t nlen, vlen;
    const char* name = check_var(L, w, &nlen);
    const char* item = lua_pushfstring(L, "variable '%s': ", name);
    const char* value = check_text(L, -2, w, /*numbers=*/true, &vlen, item);
    s.env.emplace_back(std::string(name, nlen) + '=');
    s.env.back().append(value, vlen);
    lua_pop(L, 2);
  }
  std::sort(s.env.begin(), s.env.end());
}

void read_setenv(lua_State* L, int idx, Where w, SpawnSpec& s) {
  if (lua_isnil(L, idx)) return;
  check_table(L, idx, w);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t nlen, vlen = 0;
    const char* name = check_var(L, w, &nlen);
    const char* value = nullptr;
    if (!(lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
      const char* item = lua_pushfstring(L, "variable '%s': false or ", name);
      value = check_text(L, -2, w, /*numbers=*/true, &vlen, item);
      lua_pop(L, 1);
    }
    s.changes.push_back({std::string(name, nlen),
                         std::string(value ? value : "", vlen), !!value});
    lua_pop(L, 1);
  }
}

void read_dir(lua_State* L, int idx, Where w, SpawnSpec& s) {
  if (lua_isnil(L, idx)) return;
  size_t len;
  const char* dir = check_text(L, idx, w, /*numbers=*/false, &len);
  if (len == 0) arg_error(L, w, "empty directory name");
  s.has_dir = true;
  s.dir.assign(dir, len);
}

// The Lua file at idx, or null if idx holds no file (io's userdata).
FILE** to_file(lua_State* L, int idx) {
  void* ud = lua_touserdata(L, idx);
  if (!ud || !lua_getmetatable(L, idx)) return nullptr;
  luaL_getmetatable(L, LUA_FILEHANDLE);
  bool is_file = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return is_file ? static_cast<FILE**>(ud) : nullptr;
}

// A descriptor the child can be given: a pipe end of procrun's that reads
// (for stdin) or writes (stdout, stderr), or an open Lua file.
bool read_handle(lua_State* L, int idx, Where w, StdioSpec& io,
                 bool child_reads) {
  if (Pipe* p = to_pipe(L, idx)) {
    if (pipe_fd(p) < 0) arg_error(L, w, "pipe is closed");
    if (pipe_reads(p) != child_reads)
      arg_error(L, w,
                child_reads ? "pipe is not readable" : "pipe is not writable");
    // What procrun has already taken from the pipe would be lost.
    if (pipe_buffered(p)) arg_error(L, w, "pipe has unread data");
    io.handed = p;
    io.fd = pipe_fd(p);
    return true;
  }
  FILE** f = to_file(L, idx);
  if (!f) return false;
  if (!*f) arg_error(L, w, "attempt to use a closed file");
  io.fd = fileno(*f);
  return true;
}

// stdin, stdout, stderr: 'inherit' (or nil), 'pipe' (or true), 'null', a
// pipe end or a Lua file; stderr may also be 'stdout'.
void read_stdio(lua_State* L, int idx, Where w, StdioSpec& io, int fd) {
  int t = lua_type(L, idx);
  const char* s = t == LUA_TSTRING ? lua_tostring(L, idx) : "";
  if (t == LUA_TNIL || std::strcmp(s, "inherit") == 0) {
    io.kind = StdioKind::kInherit;
  } else if ((t == LUA_TBOOLEAN && lua_toboolean(L, idx)) ||
             std::strcmp(s, "pipe") == 0) {
    io.kind = StdioKind::kPipe;
  } else if (std::strcmp(s, "null") == 0) {
    io.kind = StdioKind::kNull;
  } else if (std::strcmp(s, "stdout") == 0) {
    if (fd != 2) arg_error(L, w, "'stdout' is only for stderr");
    io.kind = StdioKind::kStdout;
  } else if (t == LUA_TUSERDATA && read_handle(L, idx, w, io, fd == 0)) {
    io.kind = StdioKind::kFd;
  } else {
    const char* got = t == LUA_TSTRING ? lua_pushfstring(L, "string '%s'", s)
                                       : luaL_typename(L, idx);
    arg_error(L, w,
              "'inherit', 'pipe', 'null', true, a pipe or a file expected, "
              "got %s",
              got);
  }
}

void read_flag(lua_State* L, int idx, Where w, bool* out) {
  if (lua_isnil(L, idx)) return;
  if (!lua_isboolean(L, idx))
    arg_error(L, w, "boolean expected, got %s", luaL_typename(L, idx));
  *out = lua_toboolean(L, idx);
}

void read_autokill(lua_State* L, int idx, Where w, SpawnSpec& s) {
  read_flag(L, idx, w, &s.autokill);
}

void read_detached(lua_State* L, int idx, Where w, SpawnSpec& s) {
  read_flag(L, idx, w, &s.detached);
}

double check_amount(lua_State* L, int idx, Where w, const char* item = "") {
  if (lua_type(L, idx) != LUA_TNUMBER)
    arg_error(L, w, "%snumber expected, got %s", item, luaL_typename(L, idx));
  double v = lua_tonumber(L, idx);
  if (!(v >= 0)) arg_error(L, w, "%snumber >= 0 expected", item);
  return v;
}

void read_timeout(lua_State* L, int idx, Where w, SpawnSpec& s) {
  if (!lua_isnil(L, idx)) s.timeout = check_amount(L, idx, w);
}

// limits = {cpu = seconds, mem = bytes, nofile = n, nproc = n, core =
// bytes}: set before the child's first instruction (see the launcher).
void read_limits(lua_State* L, int idx, Where w, SpawnSpec& s) {
  if (lua_isnil(L, idx)) return;
  check_table(L, idx, w);
  static const char* const kNames[] = {"core",   "cpu",   "mem",
                                       "nofile", "nproc", nullptr};
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char* key =
        lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : nullptr;
    const char* const* k = kNames;
    while (*k && !(key && std::strcmp(*k, key) == 0)) k++;
    if (!*k)
      arg_error(L, w, "unknown limit '%s'", key ? key : luaL_typename(L, -2));
    const char* item = lua_pushfstring(L, "limit '%s': ", key);
    s.limits.emplace_back(key, check_amount(L, -2, w, item));
    lua_pop(L, 2);
  }
}

void check_keys(lua_State* L, int t, const char* const* keys) {
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pop(L, 1);
    const char* key =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : nullptr;
    const char* const* k = keys;
    while (*k && !(key && std::strcmp(*k, key) == 0)) k++;
    if (*k) continue;
    if (key)
      luaL_argerror(L, t, lua_pushfstring(L, "unknown option '%s'", key));
    luaL_argerror(
        L, t,
        lua_pushfstring(L, "unknown option (a %s key)", luaL_typename(L, -1)));
  }
}

using FieldReader = void (*)(lua_State*, int, Where, SpawnSpec&);

void read_field(lua_State* L, int t, const char* name, FieldReader read,
                SpawnSpec& s) {
  lua_getfield(L, t, name);
  read(L, lua_gettop(L), Where{t, name}, s);
  lua_pop(L, 1);
}

// The groups of fields every spawning function takes.
void read_common_fields(lua_State* L, int t, SpawnSpec& s) {
  read_field(L, t, "env", read_env, s);
  read_field(L, t, "setenv", read_setenv, s);
  if (s.has_env && !s.changes.empty())
    luaL_argerror(L, t, "options 'env' and 'setenv' exclude each other");
  read_field(L, t, "dir", read_dir, s);
  read_field(L, t, "autokill", read_autokill, s);
  read_field(L, t, "detached", read_detached, s);
  if (s.autokill && s.detached)
    luaL_argerror(L, t, "options 'autokill' and 'detached' exclude each other");
  read_field(L, t, "timeout", read_timeout, s);
  read_field(L, t, "limits", read_limits, s);
  const char* const names[] = {"stdin", "stdout", "stderr"};
  for (int fd = 0; fd < 3; fd++) {
    lua_getfield(L, t, names[fd]);
    read_stdio(L, lua_gettop(L), Where{t, names[fd]}, s.stdio[fd], fd);
    lua_pop(L, 1);
  }
}

void read_positional(lua_State* L, SpawnSpec& s, FieldReader read_first) {
  read_first(L, 1, Where{1, nullptr}, s);
  read_args(L, 2, Where{2, nullptr}, s);
  read_env(L, 3, Where{3, nullptr}, s);
  read_dir(L, 4, Where{4, nullptr}, s);
}

void read_script(lua_State* L, int idx, Where w, SpawnSpec& s) {
  size_t len;
  const char* script = check_text(L, idx, w, /*numbers=*/false, &len);
  if (len == 0) arg_error(L, w, "empty script name");
  s.subject.assign(script, len);
  s.luafile = true;
  s.args.emplace_back();  // the executable's path, once known
  // Else the child would take "-x.lua" for an option and "-" for stdin.
  s.args.emplace_back("--");
  s.args.push_back(s.subject);
}

// module= runs a module as the script, as procrun -m does: one inside a
// bundle, or one on package.path.
void read_module(lua_State* L, int idx, Where w, SpawnSpec& s) {
  size_t len;
  const char* name = check_text(L, idx, w, /*numbers=*/false, &len);
  if (len == 0) arg_error(L, w, "empty module name");
  s.subject.assign(name, len);
  s.luafile = s.module = true;
  s.args.emplace_back();  // the executable's path, once known
  s.args.emplace_back("-m");
  s.args.push_back(s.subject);
}

// Exactly one of script= and module=.
void read_target(lua_State* L, SpawnSpec& s) {
  lua_getfield(L, 1, "module");
  bool module = !lua_isnil(L, -1);
  lua_getfield(L, 1, "script");
  if (module && !lua_isnil(L, -1))
    luaL_argerror(L, 1, "options 'script' and 'module' exclude each other");
  lua_pop(L, 2);
  if (module)
    read_field(L, 1, "module", read_module, s);
  else
    read_field(L, 1, "script", read_script, s);
}

}  // namespace

SpawnSpec* check_exec_args(lua_State* L) {
  SpawnSpec* s = new_spec(L, "exec", 4);
  if (!lua_istable(L, 1)) {
    read_positional(L, *s, read_cmd);
    return s;
  }
  check_keys(L, 1, kExecKeys);
  read_field(L, 1, "cmd", read_cmd, *s);
  read_field(L, 1, "args", read_args, *s);
  read_common_fields(L, 1, *s);
  return s;
}

SpawnSpec* check_luafile_args(lua_State* L) {
  SpawnSpec* s = new_spec(L, "exec_luafile", 4);
  if (!lua_istable(L, 1)) {
    read_positional(L, *s, read_script);
    return s;
  }
  check_keys(L, 1, kLuafileKeys);
  read_target(L, *s);
  read_field(L, 1, "args", read_args, *s);
  read_common_fields(L, 1, *s);
  return s;
}

SpawnSpec* check_shell_args(lua_State* L) {
  SpawnSpec* s = new_spec(L, "shell", 2);
  size_t len;
  const char* line = check_text(L, 1, Where{1, nullptr},
                                /*numbers=*/false, &len);
  s->subject.assign(line, len);
  for (const char* const* a = kShellArgv; *a; a++) s->args.push_back(*a);
  s->args.push_back(s->subject);
  s->program = s->args[0];
  if (lua_isnoneornil(L, 2)) return s;
  check_table(L, 2, Where{2, nullptr});
  check_keys(L, 2, kShellKeys);
  read_common_fields(L, 2, *s);
  return s;
}

}  // namespace proc
}  // namespace procrun
