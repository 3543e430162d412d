// Named objects on Linux: each is a one-page file in the user's object
// directory, mapped by every process that has it open.
//
// Open file description (OFD) locks on the first bytes of the file do what
// must survive a crash, since the kernel drops them when the last
// descriptor of a description closes, however the process ended:
//   byte 0  the mutex itself (owned by the handle, not by a thread);
//   byte 1  held while a handle is set up or torn down;
//   byte 2  read-locked by every open handle: a write lock that succeeds
//           means no live process has the object open.
// Semaphores and events are words in the page; waiters sleep on a futex
// (process-shared) that every change bumps.
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <new>

#include "modules/proc_sync.hpp"

namespace procrun {
namespace proc {
namespace sync {

namespace {

constexpr uint32_t kMagic = 0x50725379;  // "PrSy"
constexpr off_t kSize = 4096;
constexpr off_t kLockByte = 0, kSetupByte = 1, kLiveByte = 2;
constexpr int kMaxRetries = 100;

// The shared page. std::atomic<uint32_t> is lock-free, so it works across
// processes and has the layout of the futex word.
struct Shared {
  std::atomic<uint32_t> magic;    // kMagic + kind, once set up
  std::atomic<uint32_t> epoch;    // the futex word: bumped by every change
  std::atomic<uint32_t> value;    // mutex held / count / event state
  std::atomic<uint32_t> sets;     // event: how many set() calls
  std::atomic<uint32_t> waiters;  // sleeping on epoch (may overcount)
  std::atomic<uint32_t> manual;   // event: manual reset
};

}  // namespace

struct Object {
  Kind kind;
  int fd;
  Shared* shared;
  std::string path;
  // event: the set() count try_take saw, for the wait that follows it
  uint32_t tried_sets = 0;
  bool tried = false;
};

struct Wait {
  enum State { kPending, kEnded, kCancelled };
  Object* obj;
  pthread_t thread;
  std::atomic<int> state{kPending};
  int result = kBusy;
  uint32_t sets = 0;  // event: set() count when the wait began
  void (*done)(void*);
  void* arg;
};

namespace {

int error_code() {
  return uv_translate_sys_error(errno);
}

uint32_t magic_of(Kind kind) {
  return kMagic + static_cast<uint32_t>(kind);
}

// An OFD lock of one byte: type is F_WRLCK, F_RDLCK or F_UNLCK.
int lock_byte(int fd, off_t byte, short type, bool wait) {
  struct flock fl = {};
  fl.l_type = type;
  fl.l_whence = SEEK_SET;
  fl.l_start = byte;
  fl.l_len = 1;
  int rc;
  do {
    rc = fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl);
  } while (rc < 0 && errno == EINTR);
  if (rc == 0) return 0;
  if (errno == EAGAIN || errno == EACCES) return UV_EAGAIN;
  return error_code();
}

long futex(std::atomic<uint32_t>* word, int op, uint32_t val) {
  return syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), op, val, nullptr,
                 nullptr, 0);
}

// Tells sleepers that something changed.
void bump(Shared* s, bool force = false) {
  s->epoch.fetch_add(1);
  if (force || s->waiters.load() > 0) futex(&s->epoch, FUTEX_WAKE, INT_MAX);
}

int check_dir(const std::string& dir, std::string* note) {
  struct stat st;
  if (lstat(dir.c_str(), &st) < 0) return error_code();
  if (!S_ISDIR(st.st_mode)) {
    *note = "'" + dir + "' is not a directory";
    return UV_ENOTDIR;
  }
  if (st.st_uid != geteuid()) {
    *note =
        "directory '" + dir + "' belongs to uid " + std::to_string(st.st_uid);
    return UV_EACCES;
  }
  if (st.st_mode & 077) {
    *note = "directory '" + dir + "' is open to other users";
    return UV_EACCES;
  }
  return 0;
}

std::string object_path(const std::string& dir, Kind kind,
                        const std::string& name) {
  return dir + "/" + kind_name(kind) + "." + name;
}

// Opens path, creating it 0600 whatever the umask. *fd or an error.
int open_file(const std::string& path, int* fd) {
  const int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC;
  for (int i = 0; i < kMaxRetries; i++) {
    *fd = open(path.c_str(), flags | O_CREAT | O_EXCL, 0600);
    if (*fd >= 0) return fchmod(*fd, 0600) < 0 ? error_code() : 0;
    if (errno != EEXIST) return error_code();
    *fd = open(path.c_str(), flags);
    if (*fd >= 0) return 0;
    if (errno != ENOENT) return error_code();
  }
  return UV_EAGAIN;
}

int check_file(int fd, std::string* note) {
  struct stat st;
  if (fstat(fd, &st) < 0) return error_code();
  if (!S_ISREG(st.st_mode)) {
    *note = "not a regular file";
    return UV_EINVAL;
  }
  if (st.st_uid != geteuid()) {
    *note = "owned by uid " + std::to_string(st.st_uid);
    return UV_EACCES;
  }
  if (st.st_size < kSize && ftruncate(fd, kSize) < 0) return error_code();
  return 0;
}

// True if path still names the file open as fd (the last handle of an
// object unlinks it under the setup lock).
bool still_linked(const std::string& path, int fd) {
  struct stat a, b;
  return stat(path.c_str(), &a) == 0 && fstat(fd, &b) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// Called with the setup lock held and no other handle open anywhere. A
// mutex left behind by a crash keeps its held mark, so that its next
// owner learns it was abandoned.
void set_up(Shared* s, Kind kind, const Initial& init) {
  bool was = s->magic.load() == magic_of(kind);
  uint32_t held = kind == Kind::kMutex && was ? s->value.load() : 0;
  s->value = kind == Kind::kSemaphore ? init.count
             : kind == Kind::kEvent   ? uint32_t(init.signaled)
                                      : held;
  s->manual = init.manual;
  s->sets = 0;
  s->waiters = 0;
  s->magic = magic_of(kind);
}

// With the setup lock held: maps the page and joins the object.
int attach(Object* o, const Initial& init, std::string* note) {
  int rc = check_file(o->fd, note);
  if (rc) return rc;
  void* p = mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, o->fd, 0);
  if (p == MAP_FAILED) return error_code();
  o->shared = static_cast<Shared*>(p);
  if (lock_byte(o->fd, kLiveByte, F_WRLCK, /*wait=*/false) == 0)
    set_up(o->shared, o->kind, init);
  else if (o->shared->magic.load() != magic_of(o->kind)) {
    *note = "not a procrun " + std::string(kind_name(o->kind));
    return UV_EINVAL;
  }
  return lock_byte(o->fd, kLiveByte, F_RDLCK, /*wait=*/false);
}

void release(Object* o) {
  if (o->shared) munmap(o->shared, kSize);
  if (o->fd >= 0) close(o->fd);
  delete o;
}

}  // namespace

int object_dir(std::string* dir, std::string* note) {
  const char* env = std::getenv("PROCRUN_SYNC_DIR");
  if (env && *env) {
    *dir = env;
    return check_dir(*dir, note);
  }
  struct stat st;
  bool shm = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode);
  *dir = std::string(shm ? "/dev/shm" : "/tmp") + "/procrun-" +
         std::to_string(geteuid());
  if (mkdir(dir->c_str(), 0700) == 0 && chmod(dir->c_str(), 0700) < 0)
    return error_code();
  return check_dir(*dir, note);
}

int open_object(Kind kind, const std::string& name, const Initial& init,
                Object** out, std::string* note) {
  std::string dir;
  int rc = object_dir(&dir, note);
  if (rc) return rc;
  std::string path = object_path(dir, kind, name);
  for (int i = 0; i < kMaxRetries; i++) {
    auto* o = new (std::nothrow) Object{kind, -1, nullptr, path};
    if (!o) return UV_ENOMEM;
    rc = open_file(path, &o->fd);
    if (rc == 0) rc = lock_byte(o->fd, kSetupByte, F_WRLCK, /*wait=*/true);
    if (rc == 0 && !still_linked(path, o->fd)) {
      release(o);  // its last handle closed meanwhile: start again
      continue;
    }
    if (rc == 0) rc = attach(o, init, note);
    if (rc) {
      release(o);
      return rc;
    }
    lock_byte(o->fd, kSetupByte, F_UNLCK, /*wait=*/false);
    *out = o;
    return 0;
  }
  return UV_EAGAIN;
}

void close_object(Object* o) {
  lock_byte(o->fd, kSetupByte, F_WRLCK, /*wait=*/true);
  if (lock_byte(o->fd, kLiveByte, F_WRLCK, /*wait=*/false) == 0 &&
      still_linked(o->path, o->fd))
    unlink(o->path.c_str());
  release(o);  // closing drops every lock, the mutex's too
}

int remove_object(Kind kind, const std::string& name, std::string* note) {
  std::string dir;
  int rc = object_dir(&dir, note);
  if (rc) return rc;
  return unlink(object_path(dir, kind, name).c_str()) < 0 ? error_code() : 0;
}

namespace {

// A mutex just locked through o: was it abandoned? NOTE: taking the OFD
// lock and marking the mutex held are two steps (for a blocking lock the
// mark waits until finish_wait runs on the loop thread). An owner that
// dies between them leaves no mark, so the next locker gets kTaken, not
// kAbandoned. That owner had not returned from lock(), so it wrote
// nothing under the mutex; OFD locks cannot take and mark at once.
int mark_held(Object* o) {
  return o->shared->value.exchange(1) ? kAbandoned : kTaken;
}

// Takes a unit of a semaphore or an event, or says it cannot. A waiter
// on a manual event passes the set() count from when it began to wait:
// a set() since then released it even if reset() came after.
bool take_word(Shared* s, Kind kind, const uint32_t* sets) {
  if (kind == Kind::kEvent && s->manual.load())
    return s->value.load() == 1 || (sets && s->sets.load() != *sets);
  uint32_t v = s->value.load();
  while (v > 0) {
    uint32_t next = kind == Kind::kEvent ? 0 : v - 1;
    if (s->value.compare_exchange_weak(v, next)) return true;
  }
  return false;
}

// Puts back what a cancelled wait took after all.
void give_back(Object* o) {
  if (o->kind == Kind::kMutex)
    lock_byte(o->fd, kLockByte, F_UNLCK, /*wait=*/false);
  else if (o->kind == Kind::kSemaphore)
    semaphore_post(o, 1);
  else if (!o->shared->manual.load())
    event_set(o);
}

int wait_mutex(Wait* w) {
  int rc = lock_byte(w->obj->fd, kLockByte, F_WRLCK, /*wait=*/true);
  return rc ? rc : kTaken;
}

// Sleeps until a unit can be taken or the wait is cancelled. Reading the
// epoch before checking means no change can slip in unseen: FUTEX_WAIT
// returns at once if the epoch moved.
int wait_word(Wait* w) {
  Shared* s = w->obj->shared;
  s->waiters.fetch_add(1);
  int result = kBusy;
  for (;;) {
    uint32_t epoch = s->epoch.load();
    if (take_word(s, w->obj->kind, &w->sets)) {
      result = kTaken;
      break;
    }
    if (w->state.load() == Wait::kCancelled) break;
    futex(&s->epoch, FUTEX_WAIT, epoch);
  }
  s->waiters.fetch_sub(1);
  return result;
}

void* run_wait(void* arg) {
  auto* w = static_cast<Wait*>(arg);
  int result = w->obj->kind == Kind::kMutex ? wait_mutex(w) : wait_word(w);
  w->result = result;
  int pending = Wait::kPending;
  if (w->state.compare_exchange_strong(pending, Wait::kEnded))
    w->done(w->arg);
  else if (result == kTaken)
    give_back(w->obj);
  return nullptr;
}

}  // namespace

void untake(Object* o, int taken) {
  if (o->kind == Kind::kMutex && taken == kTaken)
    mutex_unlock(o);  // clears the mark that it is held
  else
    give_back(o);
}

int try_take(Object* o) {
  Shared* s = o->shared;
  if (o->kind == Kind::kEvent) {  // read before the event itself
    o->tried_sets = s->sets.load();
    o->tried = true;
  }
  if (o->kind != Kind::kMutex)
    return take_word(s, o->kind, nullptr) ? kTaken : kBusy;
  int rc = lock_byte(o->fd, kLockByte, F_WRLCK, /*wait=*/false);
  if (rc == UV_EAGAIN) return kBusy;
  return rc ? rc : mark_held(o);
}

int mutex_unlock(Object* o) {
  o->shared->value = 0;
  return lock_byte(o->fd, kLockByte, F_UNLCK, /*wait=*/false);
}

int semaphore_post(Object* o, uint32_t n) {
  Shared* s = o->shared;
  uint32_t v = s->value.load();
  do {
    if (n > kMaxCount - v) return UV_EOVERFLOW;
  } while (!s->value.compare_exchange_weak(v, v + n));
  bump(s);
  return 0;
}

int event_set(Object* o) {
  o->shared->value = 1;
  o->shared->sets.fetch_add(1);
  bump(o->shared);
  return 0;
}

int event_reset(Object* o) {
  o->shared->value = 0;
  return 0;
}

int start_wait(Object* o, void (*done)(void*), void* arg, Wait** out) {
  auto* w = new (std::nothrow) Wait;
  if (!w) return UV_ENOMEM;
  w->obj = o;
  w->sets = o->tried ? o->tried_sets : o->shared->sets.load();
  o->tried = false;
  w->done = done;
  w->arg = arg;

  // Signals stay with the main thread; a small stack is plenty.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  int rc = pthread_create(&w->thread, &attr, run_wait, w);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (rc) {
    delete w;
    return uv_translate_sys_error(rc);
  }
  *out = w;
  return 0;
}

bool wait_ended(const Wait* w) {
  return w->state.load() == Wait::kEnded;
}

// A mutex waiter sleeps in fcntl, which pthread_cancel interrupts (it is
// a cancellation point); a word waiter sees the state when the epoch
// moves. NOTE: after cancelling a mutex wait the byte is unlocked again,
// in case the lock was granted as the cancel struck: the handle cannot
// hold it otherwise while one of its waits is in progress.
int finish_wait(Wait* w) {
  int pending = Wait::kPending;
  bool cancel = w->state.compare_exchange_strong(pending, Wait::kCancelled);
  if (cancel && w->obj->kind == Kind::kMutex)
    pthread_cancel(w->thread);
  else if (cancel)
    bump(w->obj->shared, /*force=*/true);
  pthread_join(w->thread, nullptr);

  int result = cancel ? kBusy : w->result;
  if (cancel && w->obj->kind == Kind::kMutex)
    lock_byte(w->obj->fd, kLockByte, F_UNLCK, /*wait=*/false);
  else if (result == kTaken && w->obj->kind == Kind::kMutex)
    result = mark_held(w->obj);
  delete w;
  return result;
}

}  // namespace sync
}  // namespace proc
}  // namespace procrun
