// The process object: a Lua userdata referring to a heap Process that
// holds the uv_process_t. forget() and the GC detach the two; the Process
// lives on until its child has been reaped and its handle closed, so no
// child is left a zombie and no handle stays open.
#include <cmath>
#include <csignal>
#include <cstring>

#include "modules/proc.hpp"
#include "modules/proc_loop.hpp"
#include "modules/proc_pipe.hpp"
#include "modules/proc_stdio.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace proc {
namespace {

const char kProcessType[] = "process";

struct Process {
  uv_process_t handle_;
  bool exited_ = false;
  bool owned_ = true;  // a Lua object still refers to it
  int64_t exit_status_ = 0;
  int term_signal_ = 0;
  Process* prev_ = nullptr;  // in the list of live processes
  Process* next_ = nullptr;
};

// The userdata. pid stays readable after forget().
struct ProcessRef {
  Process* p;  // null once forgotten
  int pid;
};

Process* g_live = nullptr;

void link(Process* p) {
  p->next_ = g_live;
  if (g_live) g_live->prev_ = p;
  g_live = p;
}

void unlink(Process* p) {
  if (p->prev_)
    p->prev_->next_ = p->next_;
  else
    g_live = p->next_;
  if (p->next_) p->next_->prev_ = p->prev_;
}

void on_closed(uv_handle_t* h) {
  auto* p = static_cast<Process*>(h->data);
  unlink(p);
  delete p;
}

void close_process(Process* p) {
  auto* h = reinterpret_cast<uv_handle_t*>(&p->handle_);
  if (!uv_is_closing(h)) uv_close(h, on_closed);
}

void on_exit(uv_process_t* h, int64_t status, int signal) {
  auto* p = static_cast<Process*>(h->data);
  p->exited_ = true;
  p->exit_status_ = status;
  p->term_signal_ = signal;
  if (!p->owned_) close_process(p);
  wake(p);
}

// At shutdown, after lua_close has forgotten every process object.
void close_all(uv_loop_t*) {
  for (Process* p = g_live; p; p = p->next_) close_process(p);
}

uv_loop_t* loop() {
  static bool closer_set = false;
  if (!closer_set) at_loop_close(close_all);
  closer_set = true;
  return runtime_loop();
}

// Reaps children that have exited, so that forgotten ones do not linger
// as zombies while the script keeps calling proc.
void reap() {
  uv_run(loop(), UV_RUN_NOWAIT);
}

void release(Process* p) {
  p->owned_ = false;
  if (p->exited_) close_process(p);
}

ProcessRef* check_ref(lua_State* L) {
  return static_cast<ProcessRef*>(luaL_checkudata(L, 1, kProcessType));
}

// exit_code's returns for p; wait and exit_code share them.
int push_exit(lua_State* L, const Process* p) {
  if (!p) {
    lua_pushnil(L);
    lua_pushliteral(L, "forgotten");
    return 2;
  }
  lua_pushnil(L);
  if (!p->exited_) {
    lua_pushliteral(L, "active");
    return 2;
  }
  if (p->term_signal_) {
    lua_pushliteral(L, "killed");
    lua_pushinteger(L, p->term_signal_);
    return 3;
  }
  lua_pushnumber(L, static_cast<lua_Number>(p->exit_status_));
  lua_replace(L, -2);
  return 1;
}

uv_process_options_t spawn_options(SpawnSpec& s, StdioSetup* st) {
  uv_process_options_t o = {};
  o.exit_cb = on_exit;
  o.file = s.file.c_str();
  o.args = s.argv.data();
  o.env = s.own_env ? s.envp.data() : nullptr;
  o.cwd = s.has_dir ? s.dir.c_str() : nullptr;
  o.stdio_count = 3;
  o.stdio = st->io;
  return o;
}

int proc_exit_code(lua_State* L) {
  ProcessRef* r = check_ref(L);
  if (r->p) reap();
  return push_exit(L, r->p);
}

int proc_status(lua_State* L) {
  ProcessRef* r = check_ref(L);
  if (r->p) reap();
  const Process* p = r->p;
  lua_pushstring(L, !p                ? "forgotten"
                    : !p->exited_     ? "active"
                    : p->term_signal_ ? "killed"
                                      : "finished");
  return 1;
}

int check_signal(lua_State* L, int arg) {
  if (lua_isnoneornil(L, arg)) return SIGKILL;
  if (lua_type(L, arg) == LUA_TNUMBER) {
    lua_Number n = lua_tonumber(L, arg);
    if (n < 0 || n > 128 || n != std::floor(n))
      luaL_argerror(L, arg, "bad signal number");
    return static_cast<int>(n);
  }
  const char* name = luaL_checkstring(L, arg);
  int signum = signal_by_name(name);
  if (signum < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "unknown signal '%s'", name));
  return signum;
}

int proc_kill(lua_State* L) {
  ProcessRef* r = check_ref(L);
  int signum = check_signal(L, 2);
  if (!r->p) return luaL_error(L, "process %d was forgotten", r->pid);
  reap();
  // Once reaped, the pid may belong to someone else: signal nothing.
  int rc = r->p->exited_ ? UV_ESRCH : uv_process_kill(&r->p->handle_, signum);
  if (rc) return push_os_errorf(L, rc, "kill %d", r->pid);
  lua_pushboolean(L, 1);
  return 1;
}

// Closes the pipes to the child that the object holds.
void close_pipes(lua_State* L) {
  lua_getfenv(L, 1);
  for (int fd = 0; fd < 3; fd++) {
    lua_getfield(L, -1, stdio_name(fd));
    if (Pipe* pipe = to_pipe(L, -1)) close_pipe(pipe);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

int proc_forget(lua_State* L) {
  ProcessRef* r = check_ref(L);
  if (!r->p) return 0;
  close_pipes(L);
  release(r->p);
  r->p = nullptr;
  reap();
  return 0;
}

// The GC forgets; it must not run the loop (it may run inside lua_close).
int process_gc(lua_State* L) {
  auto* r = static_cast<ProcessRef*>(lua_touserdata(L, 1));
  if (r->p) release(r->p);
  r->p = nullptr;
  return 0;
}

int process_tostring(lua_State* L) {
  lua_pushfstring(L, "process %d", check_ref(L)->pid);
  return 1;
}

// p.id is the pid, p.stdin/stdout/stderr the pipes (in the object's
// environment table); other keys are the methods (upvalue 1).
int process_index(lua_State* L) {
  ProcessRef* r = check_ref(L);
  const char* key = lua_tostring(L, 2);
  if (key && lua_type(L, 2) == LUA_TSTRING && std::strcmp(key, "id") == 0) {
    lua_pushinteger(L, r->pid);
    return 1;
  }
  lua_getfenv(L, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  if (!lua_isnil(L, -1)) return 1;
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}


const luaL_Reg kMethods[] = {
    {"exit_code", guarded<proc_exit_code>}, {"forget", guarded<proc_forget>},
    {"kill", guarded<proc_kill>},           {"status", guarded<proc_status>},
    {nullptr, nullptr},
};

}  // namespace

void register_process_type(lua_State* L) {
  if (!luaL_newmetatable(L, kProcessType)) {
    lua_getfield(L, -1, "__methods");
    lua_remove(L, -2);
    return;
  }
  lua_pushcfunction(L, process_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, process_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  luaL_register(L, nullptr, kMethods);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__methods");
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, process_index, 1);
  lua_setfield(L, -3, "__index");
  lua_remove(L, -2);
}

int process_key(lua_State* L) {
  ProcessRef* r = check_ref(L);
  if (!r->p) return 0;
  lua_pushlightuserdata(L, r->p);
  return 1;
}

int spawn_process(lua_State* L, SpawnSpec& s) {
  uv_loop_t* l = loop();
  reap();  // forgotten children first
  auto* r = static_cast<ProcessRef*>(lua_newuserdata(L, sizeof(ProcessRef)));
  r->p = nullptr;
  r->pid = 0;
  luaL_getmetatable(L, kProcessType);
  lua_setmetatable(L, -2);

  StdioSetup st;
  if (int rc = open_stdio(s, &st))
    return push_os_errorf(L, rc, "%s '%s': %s", s.op, s.subject.c_str(),
                          stdio_name(st.failed_fd));
  auto* p = new Process();
  uv_process_options_t opts = spawn_options(s, &st);
  link(p);
  int rc = uv_spawn(l, &p->handle_, &opts);
  p->handle_.data = p;
  if (rc) {
    close_stdio(&st);
    close_process(p);  // uv_spawn initialised the handle even so
    return push_os_errorf(L, rc, "%s '%s'", s.op, s.subject.c_str());
  }
  r->p = p;
  r->pid = p->handle_.pid;
  lua_createtable(L, 0, 3);
  finish_stdio(L, s, &st, r->pid);
  lua_setfenv(L, -2);
  return 1;
}

}  // namespace proc
}  // namespace procrun
