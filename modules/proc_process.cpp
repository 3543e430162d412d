// The process object: a Lua userdata referring to a heap Process that
// holds the ExitWatch of its child. forget() and the GC detach the two;
// the Process lives on until its child has been reaped and its watch
// closed, so no child is left a zombie and no handle stays open.
#include <cmath>
#include <csignal>
#include <cstring>

#include "modules/proc.hpp"
#include "modules/proc_launcher.hpp"
#include "modules/proc_loop.hpp"
#include "modules/proc_pipe.hpp"
#include "modules/proc_spawn.hpp"
#include "modules/proc_stdio.hpp"
#include "modules/proc_tree.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace proc {
namespace {

const char kProcessType[] = "process";

struct Watchdog;

struct Process {
  ExitWatch watch_;
  bool watch_closed_ = false;
  int pid_ = 0;
  bool exited_ = false;
  bool owned_ = true;  // a Lua object still refers to it
  int64_t exit_status_ = 0;
  int term_signal_ = 0;
  bool timed_out_ = false;
  Watchdog* watchdog_ = nullptr;  // for the timeout option
  std::vector<ProcId> tree_;      // seen by tree kills, for the next one
  Process* prev_ = nullptr;       // in the list of live processes
  Process* next_ = nullptr;
};

// The timeout option: when it fires, the tree gets TERM and, after a
// grace period, KILL, whether or not Lua is waiting on the process.
struct Watchdog {
  uv_timer_t timer_;
  Process* p_;
  bool terminating_ = false;
};

constexpr uint64_t kTimeoutGraceMs = 5000;

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

void free_watchdog(uv_handle_t* h) {
  delete static_cast<Watchdog*>(h->data);
}

void stop_watchdog(Process* p) {
  if (!p->watchdog_) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->watchdog_->timer_),
           free_watchdog);
  p->watchdog_ = nullptr;
}

void on_watchdog(uv_timer_t* t) {
  auto* w = static_cast<Watchdog*>(t->data);
  Process* p = w->p_;
  if (p->exited_) return;
  if (!w->terminating_) {
    p->timed_out_ = true;
    w->terminating_ = true;
    signal_tree(p->pid_, SIGTERM, &p->tree_);
    uv_timer_start(t, on_watchdog, kTimeoutGraceMs, /*repeat=*/0);
  } else {
    signal_tree(p->pid_, SIGKILL, &p->tree_);
  }
}

void start_watchdog(Process* p, double seconds) {
  auto* w = new Watchdog;
  w->p_ = p;
  uv_timer_init(runtime_loop(), &w->timer_);
  w->timer_.data = w;
  // A timeout alone must not keep procrun running.
  uv_unref(reinterpret_cast<uv_handle_t*>(&w->timer_));
  uv_update_time(runtime_loop());
  uv_timer_start(&w->timer_, on_watchdog,
                 static_cast<uint64_t>(std::ceil(seconds * 1e3)), 0);
  p->watchdog_ = w;
}

void free_process(Process* p) {
  unlink(p);
  delete p;
}

// The watch closes as soon as the child is reaped, so that an exited
// process kept by Lua holds no descriptor; the Process goes once Lua has
// let go of it too.
void on_watch_closed(uv_handle_t* h) {
  auto* p = static_cast<Process*>(static_cast<ExitWatch*>(h->data)->data);
  p->watch_closed_ = true;
  if (!p->owned_) free_process(p);
}

// Once no Lua object refers to p: closes its handle, and frees it then.
void close_process(Process* p) {
  stop_watchdog(p);
  if (p->watch_closed_)
    free_process(p);
  else if (!uv_is_closing(&p->watch_.h.handle))
    close_exit_watch(&p->watch_, on_watch_closed);
}

void exited(Process* p, int64_t status, int signal) {
  p->exited_ = true;
  p->exit_status_ = status;
  p->term_signal_ = signal;
  // A timeout ends the tree as terminate() does: once the child is gone,
  // what is left of the tree (seen by the TERM) gets KILL.
  if (p->watchdog_ && p->watchdog_->terminating_)
    signal_tree(/*root=*/-1, SIGKILL, &p->tree_);
  stop_watchdog(p);
  wake(p);
  if (!p->owned_) close_process(p);
}

void on_exit_ready(ExitWatch* w) {
  int64_t status;
  int signal;
  if (!child_exited(w, &status, &signal)) return;
  close_exit_watch(w, on_watch_closed);
  exited(static_cast<Process*>(w->data), status, signal);
}

// At shutdown, after lua_close has forgotten every process object.
void close_all(uv_loop_t*) {
  for (Process *p = g_live, *next; p; p = next) {
    next = p->next_;
    close_process(p);
  }
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
  o.file = s.file.c_str();
  o.args = s.argv.data();
  o.env = s.own_env ? s.envp.data() : nullptr;
  o.cwd = s.has_dir ? s.dir.c_str() : nullptr;
  o.stdio_count = 3;
  o.stdio = st->io;
  if (s.detached) o.flags |= UV_PROCESS_DETACHED;
  return o;
}

int start_child(uv_loop_t* l, Process* p, uv_process_options_t* o) {
  p->watch_.on_ready = on_exit_ready;
  p->watch_.data = p;
  int rc = spawn_child(l, o, &p->watch_);
  if (rc == 0) p->pid_ = p->watch_.pid;
  return rc;
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

// kill's options table: {tree = bool}.
bool check_kill_options(lua_State* L, int idx) {
  if (lua_isnoneornil(L, idx)) return false;
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    bool is_string = lua_type(L, -1) == LUA_TSTRING;
    const char* key = is_string ? lua_tostring(L, -1) : luaL_typename(L, -1);
    if (!is_string || std::strcmp(key, "tree") != 0)
      luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'", key));
  }
  lua_getfield(L, idx, "tree");
  bool tree = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return tree;
}

int proc_kill(lua_State* L) {
  ProcessRef* r = check_ref(L);
  int signum = check_signal(L, 2);
  bool tree = check_kill_options(L, 3);
  if (!r->p) return luaL_error(L, "process %d was forgotten", r->pid);
  reap();
  Process* p = r->p;
  // Once reaped, the pid may belong to someone else: signal nothing but
  // the descendants an earlier tree kill saw (checked by start time).
  if (tree && !p->tree_.empty() && p->exited_)
    signal_tree(/*root=*/-1, signum, &p->tree_);
  int rc = UV_ESRCH;
  if (!p->exited_ && tree) {
    signal_tree(p->pid_, signum, &p->tree_);
    rc = 0;
  } else if (!p->exited_) {
    rc = uv_kill(p->pid_, signum);
  }
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
  if (key && lua_type(L, 2) == LUA_TSTRING &&
      std::strcmp(key, "timed_out") == 0) {
    lua_pushboolean(L, r->p && r->p->timed_out_);
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
    {"exit_code", guarded<proc_exit_code>},
    {"forget", guarded<proc_forget>},
    {"kill", guarded<proc_kill>},
    {"status", guarded<proc_status>},
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
  LaunchSetup launch;
  if (needs_launcher(s)) {
    if (int rc = open_launch_report(&launch)) {
      close_stdio(&st);
      return push_os_errorf(L, rc, "%s '%s': launcher", s.op,
                            s.subject.c_str());
    }
  }
  auto* p = new Process();
  uv_process_options_t opts = spawn_options(s, &st);
  if (launch.child >= 0) {  // the launcher's report pipe becomes its fd 3
    st.io[3].flags = UV_INHERIT_FD;
    st.io[3].data.fd = launch.child;
    opts.stdio_count = 4;
  }
  link(p);
  int rc = start_child(l, p, &opts);
  std::string what;
  if (rc == 0 && launch.report >= 0) rc = read_launch_report(&launch, &what);
  if (rc) {
    close_launch(&launch);
    close_stdio(&st);
    // A launcher that failed exits at once; it is reaped as a forgotten
    // child would be.
    if (p->pid_) {
      release(p);
    } else {
      p->owned_ = false;
      if (!exit_watch_open(&p->watch_)) p->watch_closed_ = true;
      close_process(p);
    }
    if (!what.empty())
      return push_os_errorf(L, rc, "%s '%s': %s", s.op, s.subject.c_str(),
                            what.c_str());
    return push_os_errorf(L, rc, "%s '%s'", s.op, s.subject.c_str());
  }
  if (s.timeout >= 0) start_watchdog(p, s.timeout);
  r->p = p;
  r->pid = p->pid_;
  lua_createtable(L, 0, 3);
  finish_stdio(L, s, &st, r->pid);
  lua_setfenv(L, -2);
  return 1;
}

}  // namespace proc
}  // namespace procrun
