// proc.sync_core: the native half of lua/proc/sync.lua. A handle userdata
// owns one open named object; a wait userdata owns a wait running on a
// worker thread. The worker reports through a uv_async_t, whose callback
// (on the loop thread) wakes the wait's key for the scheduler.
#include "modules/proc_sync.hpp"

#include <cstring>
#include <mutex>
#include <unordered_set>

#include "modules/proc.hpp"
#include "modules/proc_loop.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace proc {
namespace sync {

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::kMutex:
      return "mutex";
    case Kind::kSemaphore:
      return "semaphore";
    case Kind::kEvent:
      return "event";
  }
  return "?";
}

const char* check_name(const char* name, size_t len) {
  if (len == 0) return "name is empty";
  if (len > kMaxName) return "name is longer than 64 bytes";
  if (name[0] == '.') return "name starts with a dot";
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return "name has a character other than A-Z a-z 0-9 _ . -";
  }
  return nullptr;
}

namespace {

const char kHandleType[] = "procrun.sync";
const char kWaitType[] = "procrun.sync.wait";

struct Handle {
  Object* obj;  // null once closed
  Kind kind;
  char name[kMaxName + 1];
};

struct WaitRef {
  Wait* w;  // null once finished
  Handle* h;
  bool notified;  // its key was woken
  bool closed;    // ended by closing the handle
};

// Objects and waits in progress, for the async callback and so that what
// a never-closed Lua state holds stays reachable for the leak checker
// (os.exit runs static destructors, so these are never destroyed).
std::unordered_set<Object*>& g_objects = *new std::unordered_set<Object*>;
std::unordered_set<WaitRef*>& g_waits = *new std::unordered_set<WaitRef*>;
uv_async_t g_async;
bool g_async_ready = false;

void on_async(uv_async_t*) {
  for (WaitRef* r : g_waits) {
    if (!r->notified && wait_ended(r->w)) {
      r->notified = true;
      wake(r);
    }
  }
}

// On the worker thread.
void on_done(void*) {
  uv_async_send(&g_async);
}

void close_async(uv_loop_t*) {
  if (g_async_ready)
    uv_close(reinterpret_cast<uv_handle_t*>(&g_async), nullptr);
  g_async_ready = false;
}

// A wait in progress keeps the loop alive: its end is an event to come.
void update_ref() {
  auto* h = reinterpret_cast<uv_handle_t*>(&g_async);
  if (g_waits.empty())
    uv_unref(h);
  else
    uv_ref(h);
}

int ensure_async() {
  if (g_async_ready) return 0;
  static bool closer_set = false;
  if (!closer_set) at_loop_close(close_async);
  closer_set = true;
  int rc = uv_async_init(runtime_loop(), &g_async, on_async);
  if (rc) return rc;
  uv_unref(reinterpret_cast<uv_handle_t*>(&g_async));
  g_async_ready = true;
  return 0;
}

Kind check_kind(lua_State* L, int arg) {
  static const char* const kNames[] = {"mutex", "semaphore", "event", nullptr};
  return static_cast<Kind>(luaL_checkoption(L, arg, nullptr, kNames));
}

const char* check_valid_name(lua_State* L, int arg) {
  size_t len;
  const char* name = luaL_checklstring(L, arg, &len);
  if (const char* why = check_name(name, len)) luaL_argerror(L, arg, why);
  return name;
}

Handle* check_handle(lua_State* L) {
  auto* h = static_cast<Handle*>(luaL_checkudata(L, 1, kHandleType));
  if (!h->obj) luaL_error(L, "%s '%s' is closed", kind_name(h->kind), h->name);
  return h;
}

WaitRef* check_wait(lua_State* L) {
  return static_cast<WaitRef*>(luaL_checkudata(L, 1, kWaitType));
}

// nil, "<op> '<name>': ENAME: text[ (note)]", "ENAME".
int push_error(lua_State* L, int rc, const char* op, const char* name,
               const std::string& note = std::string()) {
  lua_pushfstring(L, "%s '%s'", op, name);
  return push_os_error(L, rc, note.empty() ? nullptr : note.c_str());
}

// What try and wait_finish return for a result of the platform layer.
int push_result(lua_State* L, int rc, Handle* h, const char* op) {
  if (rc < 0) return push_error(L, rc, op, h->name);
  if (rc == kTaken)
    lua_pushliteral(L, "taken");
  else if (rc == kAbandoned)
    lua_pushliteral(L, "abandoned");
  else
    lua_pushboolean(L, 0);
  return 1;
}

int push_done(lua_State* L, int rc, Handle* h, const char* op) {
  if (rc < 0) return push_error(L, rc, op, h->name);
  lua_pushboolean(L, 1);
  return 1;
}

void detach(WaitRef* r) {
  g_waits.erase(r);
  r->w = nullptr;
  update_ref();
}

void close_handle(Handle* h) {
  if (!h->obj) return;
  for (auto it = g_waits.begin(); it != g_waits.end();) {
    WaitRef* r = *it++;
    if (r->h != h) continue;
    finish_wait(r->w);
    r->closed = true;
    detach(r);
    wake(r);
  }
  g_objects.erase(h->obj);
  close_object(h->obj);
  h->obj = nullptr;
}

// open(kind, name, count, manual, signaled) -> handle | nil, msg, code
int sync_open(lua_State* L) {
  Kind kind = check_kind(L, 1);
  const char* name = check_valid_name(L, 2);
  Initial init;
  init.count = static_cast<uint32_t>(luaL_optinteger(L, 3, 0));
  init.manual = lua_toboolean(L, 4);
  init.signaled = lua_toboolean(L, 5);

  auto* h = static_cast<Handle*>(lua_newuserdata(L, sizeof(Handle)));
  h->obj = nullptr;
  h->kind = kind;
  std::strcpy(h->name, name);
  luaL_getmetatable(L, kHandleType);
  lua_setmetatable(L, -2);
  g_objects.reserve(g_objects.size() + 1);  // may throw: before the open

  std::string note;
  int rc = open_object(kind, name, init, &h->obj, &note);
  if (rc) return push_error(L, rc, kind_name(kind), name, note);
  g_objects.insert(h->obj);
  return 1;
}

int sync_close(lua_State* L) {
  close_handle(static_cast<Handle*>(luaL_checkudata(L, 1, kHandleType)));
  return 0;
}

// try(h, op) -> 'taken' | 'abandoned' | false | nil, msg, code
int sync_try(lua_State* L) {
  Handle* h = check_handle(L);
  return push_result(L, try_take(h->obj), h, luaL_checkstring(L, 2));
}

// untake(h, 'taken' | 'abandoned'): gives back what a wait took.
int sync_untake(lua_State* L) {
  Handle* h = check_handle(L);
  const char* r = luaL_checkstring(L, 2);
  untake(h->obj, std::strcmp(r, "abandoned") == 0 ? kAbandoned : kTaken);
  return 0;
}

int sync_unlock(lua_State* L) {
  Handle* h = check_handle(L);
  return push_done(L, mutex_unlock(h->obj), h, "unlock");
}

int sync_post(lua_State* L) {
  Handle* h = check_handle(L);
  auto n = static_cast<uint32_t>(luaL_checkinteger(L, 2));
  return push_done(L, semaphore_post(h->obj, n), h, "post");
}

int sync_set(lua_State* L) {
  Handle* h = check_handle(L);
  return push_done(L, event_set(h->obj), h, "set");
}

int sync_reset(lua_State* L) {
  Handle* h = check_handle(L);
  return push_done(L, event_reset(h->obj), h, "reset");
}

// wait_start(h, op) -> w, key | nil, msg, code. The key is woken once
// the wait has ended; wait_finish then gives the result.
int sync_wait_start(lua_State* L) {
  Handle* h = check_handle(L);
  const char* op = luaL_checkstring(L, 2);
  auto* r = static_cast<WaitRef*>(lua_newuserdata(L, sizeof(WaitRef)));
  *r = WaitRef{nullptr, h, false, false};
  luaL_getmetatable(L, kWaitType);
  lua_setmetatable(L, -2);
  g_waits.reserve(g_waits.size() + 1);

  int rc = ensure_async();
  if (rc == 0) rc = start_wait(h->obj, on_done, nullptr, &r->w);
  if (rc) return push_error(L, rc, op, h->name);
  g_waits.insert(r);
  update_ref();
  lua_pushlightuserdata(L, r);
  return 2;
}

int sync_wait_ended(lua_State* L) {
  WaitRef* r = check_wait(L);
  lua_pushboolean(L, !r->w || wait_ended(r->w));
  return 1;
}

// wait_finish(w, op) -> 'taken' | 'abandoned' | false | 'closed' |
// nil, msg, code. Cancels the wait if it has not ended.
int sync_wait_finish(lua_State* L) {
  WaitRef* r = check_wait(L);
  const char* op = luaL_checkstring(L, 2);
  if (!r->w) {
    if (r->closed)
      lua_pushliteral(L, "closed");
    else
      lua_pushboolean(L, 0);
    return 1;
  }
  int rc = finish_wait(r->w);
  detach(r);
  return push_result(L, rc, r->h, op);
}

int wait_gc(lua_State* L) {
  auto* r = static_cast<WaitRef*>(lua_touserdata(L, 1));
  if (r->w) {
    finish_wait(r->w);
    detach(r);
  }
  return 0;
}

int handle_gc(lua_State* L) {
  close_handle(static_cast<Handle*>(lua_touserdata(L, 1)));
  return 0;
}

// check_name(name) -> nil | why it cannot name an object
int sync_check_name(lua_State* L) {
  size_t len;
  const char* name = luaL_checklstring(L, 1, &len);
  const char* why = check_name(name, len);
  if (!why) return 0;
  lua_pushstring(L, why);
  return 1;
}

// remove(kind, name) -> true | nil, msg, code
int sync_remove(lua_State* L) {
  Kind kind = check_kind(L, 1);
  const char* name = check_valid_name(L, 2);
  std::string note;
  int rc = remove_object(kind, name, &note);
  if (rc) return push_error(L, rc, "remove", name, note);
  lua_pushboolean(L, 1);
  return 1;
}

// dir() -> path | nil, msg, code
int sync_dir(lua_State* L) {
  std::string dir, note;
  int rc = object_dir(&dir, &note);
  if (rc) return push_error(L, rc, "dir", dir.c_str(), note);
  lua_pushlstring(L, dir.data(), dir.size());
  return 1;
}

// now() -> seconds on a monotonic clock, for deadlines.
int sync_now(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(uv_hrtime()) * 1e-9);
  return 1;
}

const luaL_Reg kFunctions[] = {
    {"check_name", sync_check_name},
    {"close", guarded<sync_close>},
    {"dir", guarded<sync_dir>},
    {"now", sync_now},
    {"open", guarded<sync_open>},
    {"post", guarded<sync_post>},
    {"remove", guarded<sync_remove>},
    {"reset", guarded<sync_reset>},
    {"set", guarded<sync_set>},
    {"try", guarded<sync_try>},
    {"unlock", guarded<sync_unlock>},
    {"untake", guarded<sync_untake>},
    {"wait_ended", sync_wait_ended},
    {"wait_finish", guarded<sync_wait_finish>},
    {"wait_start", guarded<sync_wait_start>},
    {nullptr, nullptr},
};

void new_type(lua_State* L, const char* name, lua_CFunction gc) {
  luaL_newmetatable(L, name);
  lua_pushcfunction(L, gc);
  lua_setfield(L, -2, "__gc");
  lua_pop(L, 1);
}

}  // namespace
}  // namespace sync
}  // namespace proc
}  // namespace procrun

extern "C" int luaopen_proc_sync_core(lua_State* L) {
  using namespace procrun::proc::sync;
  new_type(L, kHandleType, handle_gc);
  new_type(L, kWaitType, wait_gc);
  lua_newtable(L);
  luaL_register(L, nullptr, kFunctions);
  lua_pushinteger(L, kMaxCount);
  lua_setfield(L, -2, "max_count");
  return 1;
}
