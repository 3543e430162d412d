#include "runtime/host.hpp"

#include <uv.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/builtins.hpp"
#include "runtime/bundle.hpp"
#include "runtime/bundle_build.hpp"
#include "runtime/loop.hpp"
#include "runtime/options.hpp"

namespace procrun {
namespace {

struct Session {
  int argc;
  char** argv;
  Options opts;
  int status;               // 0, or nonzero once something failed
  bool bundle_app = false;  // run the bundle's main chunk with all of argv
};

// Message handler: turns the error into "message + traceback".
int traceback(lua_State* L) {
  add_traceback(L, L, 1);
  return 1;
}

int do_string(lua_State* L, const char* chunk, const char* name) {
  int status = luaL_loadbuffer(L, chunk, std::strlen(chunk), name);
  if (status == 0) status = call_protected(L, 0, 0);
  return report(L, status);
}

int do_file(lua_State* L, const char* path) {
  int status = luaL_loadfile(L, path);
  if (status == 0) status = call_protected(L, 0, 0);
  return report(L, status);
}

int do_library(lua_State* L, const char* name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = report(L, call_protected(L, 1, 1));
  if (status == 0) lua_pop(L, 1);
  return status;
}

// Pushes jit.<name>.start for a -j or -b command, loading module jit.<name>
// if the jit table has no such function. Returns nonzero after reporting.
int load_jit_module(lua_State* L, const char* name) {
  lua_getglobal(L, "require");
  lua_pushfstring(L, "jit.%s", name);
  if (lua_pcall(L, 1, 1, 0) != 0) {
    const char* msg = lua_tostring(L, -1);
    if (!msg || std::strncmp(msg, "module ", 7) != 0) return report(L, 1);
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  if (!lua_isnil(L, -1)) {
    lua_getfield(L, -1, "start");
    lua_remove(L, -2);
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    print_message("unknown luaJIT command or jit.* modules not installed");
    return 1;
  }
  return 0;
}

// Calls the function on the stack with "a,b,c" split into arguments; an
// empty piece passes nil.
int run_with_opts(lua_State* L, const char* opts) {
  int nargs = 0;
  if (opts && *opts) {
    for (;;) {
      const char* comma = std::strchr(opts, ',');
      size_t len = comma ? size_t(comma - opts) : std::strlen(opts);
      if (len)
        lua_pushlstring(L, opts, len);
      else
        lua_pushnil(L);
      nargs++;
      if (!comma) break;
      opts = comma + 1;
    }
  }
  return report(L, call_protected(L, nargs, 0));
}

// -j cmd[=arg,...]: a function of the jit table (-jon, -jflush) or the
// start function of module jit.cmd (-jv, -jdump).
int do_jit_command(lua_State* L, const std::string& spec) {
  size_t eq = spec.find('=');
  std::string cmd = spec.substr(0, eq);
  const char* opts = eq == std::string::npos ? nullptr : spec.c_str() + eq + 1;

  lua_getglobal(L, "jit");
  lua_getfield(L, -1, cmd.c_str());
  lua_remove(L, -2);
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    if (load_jit_module(L, cmd.c_str())) return 1;
  }
  return run_with_opts(L, opts);
}

int do_jit_opt(lua_State* L, const std::string& opts) {
  lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
  lua_getfield(L, -1, "jit.opt");
  lua_getfield(L, -1, "start");
  lua_replace(L, -3);
  lua_pop(L, 1);
  return run_with_opts(L, opts.c_str());
}

// -b ...: hands the rest of the command line to jit.bcsave.
int do_bytecode(lua_State* L, char** argv, int argc, int first) {
  if (load_jit_module(L, "bcsave")) return 1;
  int nargs = 0;
  const char* attached = argv[first] + 2;
  if (*attached) {  // "-bl" reaches bcsave as "-l"
    lua_pushfstring(L, "-%s", attached);
    nargs++;
  }
  for (int i = first + 1; i < argc; i++, nargs++) lua_pushstring(L, argv[i]);
  return report(L, lua_pcall(L, nargs, 0, 0));
}

int run_actions(lua_State* L, const Options& opts) {
  for (const Action& a : opts.actions) {
    int status = 0;
    switch (a.kind) {
      case ActionKind::kExecute:
        status = do_string(L, a.arg.c_str(), "=(command line)");
        break;
      case ActionKind::kRequire:
        status = do_library(L, a.arg.c_str());
        break;
      case ActionKind::kJitCommand:
        status = do_jit_command(L, a.arg);
        break;
      case ActionKind::kJitOpt:
        status = do_jit_opt(L, a.arg);
        break;
    }
    if (status) return status;
  }
  return 0;
}

void create_arg_table(lua_State* L, int argc, char** argv, int base) {
  lua_createtable(L, argc - base, base);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - base);
  }
  lua_setglobal(L, "arg");
}

int load_script(lua_State* L, const Session& s) {
  if (s.bundle_app) return load_bundle_chunk(L, *bundle_main());
  const char* path =
      s.opts.script_is_stdin ? nullptr : s.argv[s.opts.script_index];
  if (s.opts.script_is_module) return load_module_chunk(L, path);
  return luaL_loadfile(L, path);
}

int run_script(lua_State* L, const Session& s) {
  int status = load_script(L, s);
  if (status == 0) {
    int nargs = s.argc - s.opts.script_index - 1;
    luaL_checkstack(L, nargs, "too many arguments to script");
    for (int i = s.opts.script_index + 1; i < s.argc; i++)
      lua_pushstring(L, s.argv[i]);
    status = call_protected(L, nargs, 0);
  }
  return report(L, status);
}

// Lets built-in modules finish their work after the main chunk (proc runs
// its threads to the end) through the function the registry holds, if any.
int run_main_end(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "procrun.main_end");
  if (!lua_isfunction(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  return report(L, call_protected(L, 0, 0));
}

int run_lua_init(lua_State* L) {
  const char* init = std::getenv("LUA_INIT");
  if (!init) return 0;
  if (init[0] == '@') return do_file(L, init + 1);
  return do_string(L, init, "=LUA_INIT");
}

void print_version() {
  std::printf("procrun %s -- %s -- libuv %s\n", PROCRUN_VERSION, LUAJIT_VERSION,
              uv_version_string());
  std::fflush(stdout);
}

void print_jit_status(lua_State* L) {
  int top = lua_gettop(L);
  lua_getglobal(L, "jit");
  lua_getfield(L, -1, "status");
  lua_remove(L, -2);
  lua_call(L, 0, LUA_MULTRET);
  std::fputs(lua_toboolean(L, top + 1) ? "JIT: ON" : "JIT: OFF", stdout);
  for (int i = top + 2; i <= lua_gettop(L); i++)
    std::printf(" %s", lua_tostring(L, i));
  std::putchar('\n');
  lua_settop(L, top);
}

int do_bundle(int argc, char** argv, int first, lua_State* L) {
  std::string err = build_bundle(L, parse_bundle_args(argc, argv, first));
  if (err.empty()) return 0;
  print_message(err.c_str());
  return 1;
}

bool stdin_is_tty() {
  return uv_guess_handle(0) == UV_TTY;
}

// Runs inside lua_cpcall, so that running out of memory while setting up
// is reported like any other error.
int protected_main(lua_State* L) {
  auto* s = static_cast<Session*>(lua_touserdata(L, 1));
  const Options& opts = s->opts;

  if (opts.no_env) {  // also makes package ignore LUA_PATH and LUA_CPATH
    lua_pushboolean(L, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
  }
  lua_gc(L, LUA_GCSTOP, 0);
  luaL_openlibs(L);
  install_builtin_searcher(L);
  install_bundle_searcher(L);
  lua_gc(L, LUA_GCRESTART, -1);
  if (opts.bundle_index) {
    s->status = do_bundle(s->argc, s->argv, opts.bundle_index, L);
    return 0;
  }
  create_arg_table(L, s->argc, s->argv, opts.script_index);

  if (!opts.no_env && (s->status = run_lua_init(L))) return 0;
  if (opts.version) print_version();
  if (opts.bytecode_index) {  // after the -O options that may precede it
    if (!(s->status = run_actions(L, opts)))
      s->status = do_bytecode(L, s->argv, s->argc, opts.bytecode_index);
    return 0;
  }
  if ((s->status = run_actions(L, opts))) return 0;
  bool has_script = opts.script_index < s->argc;
  if (has_script && (s->status = run_script(L, *s))) return 0;

  if (opts.interactive) {
    print_jit_status(L);
    run_repl(L);
  } else if (!has_script && !opts.executes && !opts.version) {
    if (stdin_is_tty()) {
      print_version();
      print_jit_status(L);
      run_repl(L);
    } else if ((s->status = do_file(L, nullptr))) {
      return 0;
    }
  }
  s->status = run_main_end(L);
  return 0;
}

// A bundle's arg[0] is its path: argv[0] as invoked, or the executable's
// path if argv[0] is missing or a bare name found in PATH.
void bundle_argv0(Session* s) {
  static char* self[] = {nullptr, nullptr};
  self[0] = const_cast<char*>(bundle_exe_path().c_str());
  if (s->argc == 0) {
    s->argc = 1;
    s->argv = self;
  } else if (!std::strchr(s->argv[0], '/')) {
    s->argv[0] = self[0];
  }
  s->opts.script_index = 0;
}

}  // namespace

void add_traceback(lua_State* L, lua_State* co, int level) {
  if (!lua_isstring(L, -1)) {
    if (lua_isnil(L, -1) || !luaL_callmeta(L, -1, "__tostring") ||
        !lua_isstring(L, -1))
      return;
    lua_remove(L, -2);
  }
  luaL_traceback(L, co, lua_tostring(L, -1), level);
  lua_remove(L, -2);
}

void print_message(const char* msg) {
  std::fprintf(stderr, "procrun: %s\n", msg);
  std::fflush(stderr);
}

int report(lua_State* L, int status) {
  if (status && !lua_isnil(L, -1) && !termination_requested()) {
    const char* msg = lua_tostring(L, -1);
    print_message(msg ? msg : "(error object is not a string)");
    lua_pop(L, 1);
  } else if (status) {
    lua_pop(L, 1);
  }
  return status;
}

int call_protected(lua_State* L, int nargs, int nresults) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback);
  lua_insert(L, base);
  arm_interrupt(L);
  int status = lua_pcall(L, nargs, nresults, base);
  disarm_interrupt();
  lua_remove(L, base);
  if (status) lua_gc(L, LUA_GCCOLLECT, 0);  // free what the error left
  return status;
}

int run_host(int argc, char** argv) {
  static char* no_args[] = {nullptr};
  if (argc < 1 || !argv[0]) {
    argc = 0;
    argv = no_args;
  }
  bool plain = take_plain_request();
  std::string bundle_error = load_own_bundle();
  if (!bundle_error.empty()) {
    print_message(bundle_error.c_str());
    return EXIT_FAILURE;
  }
  Session s{argc, argv, {}, 0};
  s.bundle_app = have_bundle() && !plain;
  if (s.bundle_app)  // the app gets argv untouched, from arg[0] on
    bundle_argv0(&s);
  else
    s.opts = parse_command_line(argc, argv);
  if (s.opts.bundle_index) {
    BundleArgs b = parse_bundle_args(argc, argv, s.opts.bundle_index);
    if (!b.error.empty()) s.opts.error = b.error;
  }
  if (s.opts.help) {
    std::fputs(usage_text(), stdout);
    return EXIT_SUCCESS;
  }
  if (!s.opts.error.empty()) {
    print_message(s.opts.error.c_str());
    std::fputs(usage_text(), stderr);
    return EXIT_FAILURE;
  }

  lua_State* L = luaL_newstate();
  if (!L) {
    print_message("cannot create state: not enough memory");
    return EXIT_FAILURE;
  }
  int status = lua_cpcall(L, protected_main, &s);
  report(L, status);
  lua_close(L);
  close_runtime_loop();
  finish_termination();
  return status || s.status ? EXIT_FAILURE : EXIT_SUCCESS;
}

}  // namespace procrun
