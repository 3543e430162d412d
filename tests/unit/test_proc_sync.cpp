// The platform layer of named objects (modules/proc_sync.hpp), on its own:
// names, files, taking and waiting, with forked children as the other
// processes.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "modules/proc_sync.hpp"

using namespace procrun::proc::sync;

namespace {

// A private object directory, set as PROCRUN_SYNC_DIR while it lives.
struct ObjectDir {
  std::string path;
  ObjectDir() {
    char name[] = "/tmp/procrun-unit.XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    path = name;
    setenv("PROCRUN_SYNC_DIR", name, /*overwrite=*/1);
  }
  ~ObjectDir() {
    unsetenv("PROCRUN_SYNC_DIR");
    std::string cmd = "rm -rf '" + path + "'";
    CHECK(std::system(cmd.c_str()) == 0);
  }
  bool has(const std::string& file) const {
    struct stat st;
    return stat((path + "/" + file).c_str(), &st) == 0;
  }
};

Object* open(Kind kind, const char* name, Initial init = Initial()) {
  Object* obj = nullptr;
  std::string note;
  int rc = open_object(kind, name, init, &obj, &note);
  INFO(note);
  REQUIRE(rc == 0);
  return obj;
}

void count_done(void* arg) {
  static_cast<std::atomic<int>*>(arg)->fetch_add(1);
}

}  // namespace

TEST_CASE("names are 1 to 64 portable characters not starting with a dot",
          "[sync]") {
  CHECK(check_name("db-1_x.lock", 11) == nullptr);
  CHECK(check_name(std::string(64, 'a').c_str(), 64) == nullptr);
  CHECK(check_name("", 0) != nullptr);
  CHECK(check_name(std::string(65, 'a').c_str(), 65) != nullptr);
  CHECK(check_name(".x", 2) != nullptr);
  CHECK(check_name("a/b", 3) != nullptr);
  CHECK(check_name("a\0b", 3) != nullptr);
  CHECK(check_name("a b", 3) != nullptr);
}

TEST_CASE("the last close of an object removes its file", "[sync]") {
  ObjectDir dir;
  Object* a = open(Kind::kEvent, "e");
  Object* b = open(Kind::kEvent, "e");
  CHECK(dir.has("event.e"));
  close_object(a);
  CHECK(dir.has("event.e"));
  close_object(b);
  CHECK_FALSE(dir.has("event.e"));
}

TEST_CASE("a directory open to others is refused", "[sync]") {
  ObjectDir dir;
  REQUIRE(chmod(dir.path.c_str(), 0755) == 0);
  Object* obj = nullptr;
  std::string note;
  CHECK(open_object(Kind::kMutex, "m", Initial(), &obj, &note) == UV_EACCES);
  CHECK(note.find("open to other users") != std::string::npos);
}

TEST_CASE("a semaphore counts, and refuses to pass the maximum", "[sync]") {
  ObjectDir dir;
  Initial init;
  init.count = 1;
  Object* s = open(Kind::kSemaphore, "s", init);
  CHECK(try_take(s) == kTaken);
  CHECK(try_take(s) == kBusy);
  CHECK(semaphore_post(s, kMaxCount) == 0);
  CHECK(semaphore_post(s, 1) == UV_EOVERFLOW);
  close_object(s);
}

TEST_CASE("a wait ends when the semaphore is posted", "[sync]") {
  ObjectDir dir;
  Object* s = open(Kind::kSemaphore, "s");
  std::atomic<int> done{0};
  Wait* w = nullptr;
  REQUIRE(start_wait(s, count_done, &done, &w) == 0);
  usleep(20000);
  CHECK_FALSE(wait_ended(w));
  REQUIRE(semaphore_post(s, 1) == 0);
  for (int i = 0; i < 500 && !wait_ended(w); i++) usleep(2000);
  CHECK(wait_ended(w));
  CHECK(finish_wait(w) == kTaken);
  CHECK(done.load() == 1);
  CHECK(try_take(s) == kBusy);
  close_object(s);
}

TEST_CASE("a cancelled wait takes nothing", "[sync]") {
  ObjectDir dir;
  Object* e = open(Kind::kEvent, "e");
  Object* m = open(Kind::kMutex, "m");
  Object* m2 = open(Kind::kMutex, "m");
  REQUIRE(try_take(m2) == kTaken);
  std::atomic<int> done{0};
  Wait* we = nullptr;
  Wait* wm = nullptr;
  REQUIRE(start_wait(e, count_done, &done, &we) == 0);
  REQUIRE(start_wait(m, count_done, &done, &wm) == 0);
  usleep(20000);
  CHECK(finish_wait(we) == kBusy);
  CHECK(finish_wait(wm) == kBusy);
  CHECK(done.load() == 0);
  REQUIRE(mutex_unlock(m2) == 0);
  CHECK(try_take(m) == kTaken);
  close_object(m);
  close_object(m2);
  close_object(e);
}

TEST_CASE("a mutex whose owner died is taken as abandoned", "[sync]") {
  ObjectDir dir;
  Object* m = open(Kind::kMutex, "m");
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    Object* mine = nullptr;
    std::string note;
    if (open_object(Kind::kMutex, "m", Initial(), &mine, &note) != 0 ||
        try_take(mine) != kTaken)
      _exit(1);
    _exit(0);  // dies holding it
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  CHECK(try_take(m) == kAbandoned);
  REQUIRE(mutex_unlock(m) == 0);
  CHECK(try_take(m) == kTaken);
  close_object(m);
}

TEST_CASE("untake gives back what was taken, abandoned mutexes as such",
          "[sync]") {
  ObjectDir dir;
  Object* m = open(Kind::kMutex, "m");
  Object* m2 = open(Kind::kMutex, "m");
  REQUIRE(try_take(m) == kTaken);
  untake(m, kTaken);
  CHECK(try_take(m2) == kTaken);  // free, and not abandoned
  REQUIRE(mutex_unlock(m2) == 0);
  close_object(m2);  // a close while not holding it: nothing abandoned

  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // dies holding it
    Object* mine = nullptr;
    std::string note;
    bool ok = open_object(Kind::kMutex, "m", Initial(), &mine, &note) == 0 &&
              try_take(mine) == kTaken;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(try_take(m) == kAbandoned);
  untake(m, kAbandoned);
  CHECK(try_take(m) == kAbandoned);  // the next owner still learns it
  REQUIRE(mutex_unlock(m) == 0);
  close_object(m);

  Initial one;
  one.count = 1;
  Object* s = open(Kind::kSemaphore, "s", one);
  REQUIRE(try_take(s) == kTaken);
  REQUIRE(try_take(s) == kBusy);
  untake(s, kTaken);
  CHECK(try_take(s) == kTaken);
  close_object(s);

  Initial set;
  set.signaled = true;
  Object* e = open(Kind::kEvent, "e", set);
  REQUIRE(try_take(e) == kTaken);
  REQUIRE(try_take(e) == kBusy);
  untake(e, kTaken);
  CHECK(try_take(e) == kTaken);
  close_object(e);
}

TEST_CASE("a manual event set and reset between a try and a wait releases it",
          "[sync]") {
  ObjectDir dir;
  Initial init;
  init.manual = true;
  Object* e = open(Kind::kEvent, "e", init);
  Object* other = open(Kind::kEvent, "e", init);
  REQUIRE(try_take(e) == kBusy);
  REQUIRE(event_set(other) == 0);
  REQUIRE(event_reset(other) == 0);
  std::atomic<int> done{0};
  Wait* w = nullptr;
  REQUIRE(start_wait(e, count_done, &done, &w) == 0);
  for (int i = 0; i < 200 && !wait_ended(w); i++) usleep(10000);
  CHECK(finish_wait(w) == kTaken);  // kBusy: cancelled after 2 s
  close_object(other);
  close_object(e);
}

TEST_CASE("a manual event releases a waiter even if reset at once", "[sync]") {
  ObjectDir dir;
  Initial init;
  init.manual = true;
  Object* e = open(Kind::kEvent, "e", init);
  std::atomic<int> done{0};
  Wait* w = nullptr;
  REQUIRE(start_wait(e, count_done, &done, &w) == 0);
  REQUIRE(event_set(e) == 0);
  REQUIRE(event_reset(e) == 0);
  for (int i = 0; i < 500 && !wait_ended(w); i++) usleep(2000);
  CHECK(finish_wait(w) == kTaken);
  CHECK(try_take(e) == kBusy);
  close_object(e);
}
