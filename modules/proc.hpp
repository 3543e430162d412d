// proc.core, the native half of require'proc': child processes on the
// runtime's libuv loop, and the environment. lua/proc.lua builds on it.
#pragma once

#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <exception>
#include <lua.hpp>
#include <new>
#include <string>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace procrun {
namespace proc {

// One change to the inherited environment: set it, or remove it.
struct EnvChange {
  std::string name;
  std::string value;
  bool set;
};

struct Pipe;  // proc_pipe.hpp

// What one of the child's stdin, stdout, stderr is connected to.
enum class StdioKind {
  kInherit,  // procrun's own
  kPipe,     // a new pipe to procrun
  kNull,     // the null device
  kFd,       // a descriptor procrun has: an open file or a pipe end
  kStdout,   // stderr only: wherever stdout goes
};

struct StdioSpec {
  StdioKind kind = StdioKind::kInherit;
  int fd = -1;             // kFd: the descriptor the child gets
  Pipe* handed = nullptr;  // kFd from a pipe end: procrun closes its copy
};

// Everything one spawn needs. It lives in a Lua userdata, so a raise while
// it is being filled leaves nothing for C++ to free.
struct SpawnSpec {
  const char* op = "exec";         // the calling function, for messages
  std::string subject;             // what messages name: cmd, script...
  std::string program;             // a path or a bare name to search
  bool luafile = false;            // run program as a script of procrun
  bool module = false;             // luafile: a module name (procrun -m)
  std::vector<std::string> args;   // argv; args[0] is the program
  bool has_env = false;            // env replaces the whole environment
  std::vector<std::string> env;    // "NAME=value"
  std::vector<EnvChange> changes;  // setenv, over the inherited one
  bool has_dir = false;
  std::string dir;
  StdioSpec stdio[3];
  bool autokill = false;  // dies with procrun (needs the launcher)
  bool detached = false;  // a session of its own
  double timeout = -1;    // seconds until the tree is terminated; -1 never
  std::vector<std::pair<std::string, double>> limits;  // name, amount

  // Filled by prepare_spawn.
  // The path the spawn executes, not searched again: the program, or
  // procrun itself as the launcher (proc_launcher_posix.cpp).
  std::string file;
  bool own_env = false;  // final_env is the child's
  std::vector<std::string> final_env;
  std::vector<char*> argv, envp;  // null-terminated views
};

// proc_options.cpp: read the arguments of proc.exec, proc.exec_luafile and
// proc.shell into a new spec left on top of the stack. Misuse raises a
// "bad argument" error before anything is acquired.
SpawnSpec* check_exec_args(lua_State* L);
SpawnSpec* check_luafile_args(lua_State* L);
SpawnSpec* check_shell_args(lua_State* L);

// proc_launch.cpp: resolves what the child runs and builds its argv and
// environment. Returns 0, or pushes nil, message, code and returns 3.
int prepare_spawn(lua_State* L, SpawnSpec& s);

// proc_process.cpp: spawns s and pushes the process object, or pushes nil,
// message, code. Returns the number of values pushed. On Linux the child
// starts through posix_spawn, its exit watched by a pidfd (by SIGCHLD when
// descriptors run short; proc_spawn_linux.cpp); elsewhere, or when the
// options need more, through uv_spawn.
int spawn_process(lua_State* L, SpawnSpec& s);
// Creates the "process" metatable (once per state) and pushes the table
// of process methods, to which lua/proc.lua adds the blocking ones.
void register_process_type(lua_State* L);
// process_key(p): what the scheduler waits on for p's exit (a light
// userdata woken when the child exits); nothing once p is forgotten.
int process_key(lua_State* L);

// proc_env.cpp.
int proc_env(lua_State* L);
int proc_setenv(lua_State* L);
// True if name can be an environment variable's name.
bool valid_env_name(const char* name, size_t len);
// The current environment as "NAME=value" strings; 0 or a libuv error.
int read_environ(std::vector<std::string>* out);
// The variable's value; 0, UV_ENOENT or another libuv error.
int getenv_value(const char* name, std::string* value);

// libuv 1.44 has no UV_ENOEXEC; push_os_error names this one itself.
constexpr int kErrNoExec = -ENOEXEC;

// proc_errors.cpp: takes the message head ("exec 'ls'") from the top of
// the stack and replaces it with nil, "<head>: <ENAME>: <text>[ (note)]",
// "ENAME". Returns 3. code is a negative libuv error.
int push_os_error(lua_State* L, int code, const char* note = nullptr);
// Same, with the head given as a lua_pushfstring format.
int push_os_errorf(lua_State* L, int code, const char* fmt, ...);

// Platform parts (proc_exec_posix.cpp, proc_signals_posix.cpp).
// True if cmd names a path rather than a program to look up in PATH.
bool has_dir_part(const std::string& cmd);
// path as seen from inside dir (path itself if absolute or dir empty).
std::string path_in_dir(const std::string& dir, const std::string& path);
// The search path used when the child's PATH is not set.
std::string default_search_path();
// Finds the program name in the search path, as seen from dir; relative
// entries stay relative in *found (the child starts inside dir).
// Returns 0, UV_ENOENT, or UV_EACCES if only unrunnable files matched.
int search_path(const std::string& name, const std::string& path,
                const std::string& dir, std::string* found);
// kErrNoExec if path is an executable file the kernel cannot run; else 0.
int check_exec_format(const std::string& path);
// The shell proc.shell runs the command line with: argv before the line.
extern const char* const kShellArgv[];
// The signal number for "TERM" or "SIGTERM"; -1 if unknown.
int signal_by_name(const char* name);

#if defined(__SANITIZE_ADDRESS__)
// NOTE: a Lua error unwinds C++ frames without ASan's epilogues, leaving
// their redzones poisoned, and LuaJIT (not instrumented) later trips on
// them in strcpy. LuaJIT unwinds like C++, so this destructor runs as the
// error passes and clears the dead frames below it.
struct StackUnpoisoner {
  __attribute__((noinline)) ~StackUnpoisoner() {
    const size_t kBelow = 64 * 1024;
    auto* top = static_cast<char*>(__builtin_frame_address(0));
    __asan_unpoison_memory_region(top - kBelow, kBelow);
  }
};
#endif

// Runs F as a Lua C function, turning a C++ exception into a Lua error:
// none may unwind through LuaJIT frames.
template <lua_CFunction F>
int guarded(lua_State* L) {
#if defined(__SANITIZE_ADDRESS__)
  StackUnpoisoner unpoison_on_exit;
#endif
  char msg[256];
  try {
    return F(L);
  } catch (const std::bad_alloc&) {
    std::snprintf(msg, sizeof msg, "not enough memory");
  } catch (const std::exception& e) {
    std::snprintf(msg, sizeof msg, "%s", e.what());
  }
  return luaL_error(L, "%s", msg);
}

}  // namespace proc
}  // namespace procrun
