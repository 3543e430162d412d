// Named synchronization objects shared by unrelated processes of one user:
// mutexes, semaphores and events. This is the platform interface; the Lua
// objects (proc.mutex, proc.semaphore, proc.event) are in proc_sync.cpp and
// lua/proc/sync.lua. Every function returns 0 (or a result >= 0) or a
// negative libuv error code, and never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace procrun {
namespace proc {
namespace sync {

enum class Kind { kMutex, kSemaphore, kEvent };

// "mutex", "semaphore" or "event".
const char* kind_name(Kind kind);

// The longest name, and the largest semaphore count.
constexpr size_t kMaxName = 64;
constexpr uint32_t kMaxCount = 0x7fffffff;

// Null if name may name an object, else why not ("is empty"...). Names
// are 1 to kMaxName characters from A-Z a-z 0-9 _ . - not starting with
// a dot.
const char* check_name(const char* name, size_t len);

// What an object starts as when open_object creates it; an object that
// already exists keeps its state.
struct Initial {
  uint32_t count = 0;     // semaphore
  bool manual = false;    // event: manual reset
  bool signaled = false;  // event: starts set
};

struct Object;

// The directory holding the objects: $PROCRUN_SYNC_DIR if set, else
// /dev/shm/procrun-<uid> (created 0700 if missing). It must be a real
// directory owned by this user and closed to others; if not, returns
// UV_EACCES or UV_ENOTDIR and says why in *note.
int object_dir(std::string* dir, std::string* note);

// Opens the object, creating it (0600) if no process has it open. A file
// owned by another user gives UV_EACCES with a note; any other failure
// of the file system comes back as its code.
int open_object(Kind kind, const std::string& name, const Initial& init,
                Object** out, std::string* note);

// Closes the handle; the lock of a mutex it holds is released as
// abandoned. The last handle of an object removes its file.
void close_object(Object* obj);

// Detaches the name from its object: handles open now keep the old one,
// and the next open creates a new one. UV_ENOENT if there is none.
int remove_object(Kind kind, const std::string& name, std::string* note);

// Results of an attempt to take an object.
constexpr int kBusy = 0;       // not available now
constexpr int kTaken = 1;      // taken: a mutex locked, a count taken...
constexpr int kAbandoned = 2;  // a mutex whose last owner died holding it

// Takes the object if it is available, never waiting. For a mutex the
// caller must not hold it through this handle already.
int try_take(Object* obj);

// Gives back what try_take or finish_wait took (taken is what it
// returned) when that could not reach the caller: a mutex, semaphore
// unit or auto-reset event's set is free again for others, and a mutex
// taken as abandoned is still abandoned for its next owner.
void untake(Object* obj, int taken);

// Operations on a mutex held through this handle, a semaphore and an
// event.
int mutex_unlock(Object* obj);
int semaphore_post(Object* obj, uint32_t n);  // UV_EOVERFLOW past the max
int event_set(Object* obj);
int event_reset(Object* obj);

// A wait in progress on a thread of its own (signals blocked there).
struct Wait;

// Starts waiting to take obj. When the wait ends, done(arg) is called ON
// THE WORKER THREAD; finish_wait then gives the result. At most one wait
// may be in progress per mutex handle. A wait on a manual event ends on
// any set() since the handle's last try_take (or since now, if none came
// since the last wait), so a set() and reset() between the two count.
int start_wait(Object* obj, void (*done)(void*), void* arg, Wait** out);

// True once the wait has ended (done has been or is being called).
bool wait_ended(const Wait* w);

// Ends the wait, cancelling it if it has not ended, and frees it. Returns
// kTaken or kAbandoned if it took the object, kBusy if cancelled, or an
// error. The worker has exited when it returns.
int finish_wait(Wait* w);

}  // namespace sync
}  // namespace proc
}  // namespace procrun
