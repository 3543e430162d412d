// Quick spawns on Linux: glibc's posix_spawn starts the child with
// clone(CLONE_VM | CLONE_VFORK), so nothing of procrun is copied, and it
// reports a failed exec as an error code. A pidfd tells when that child
// exits without SIGCHLD. Each costs a descriptor for as long as the child
// runs, so past a quarter of the descriptor limit (or when none is left)
// a child's exit is watched through SIGCHLD instead, as uv_spawn does:
// thousands of children must not starve the script of files and pipes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "modules/proc_spawn.hpp"

extern char** environ;

namespace procrun {
namespace proc {
namespace {

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

constexpr int kMaxFds = 4;

int open_pidfd(int pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

// pidfds came with Linux 5.3, and a seccomp filter may refuse them; then
// uv_spawn does all the work.
bool have_pidfd() {
  static int known = -1;
  if (known < 0) {
    int fd = open_pidfd(getpid());
    known = fd >= 0;
    if (fd >= 0) close(fd);
  }
  return known == 1;
}

int sys_error() {
  return uv_translate_sys_error(errno);
}

int g_pidfds = 0;  // open for running children

bool pidfd_allowed() {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0) return false;
  return r.rlim_cur == RLIM_INFINITY ||
         static_cast<rlim_t>(g_pidfds) < r.rlim_cur / 4;
}

// A SIGCHLD that procrun inherited as ignored (or with SA_NOCLDWAIT) has
// the kernel reap children at once and their exit statuses lost. libuv
// puts its own handler there when it spawns; a quick spawn does not, so
// it restores the default action, which keeps zombies for waitpid.
void keep_zombies() {
  struct sigaction sa;
  if (sigaction(SIGCHLD, nullptr, &sa) != 0) return;
  if (sa.sa_handler != SIG_IGN && !(sa.sa_flags & SA_NOCLDWAIT)) return;
  if (sa.sa_handler == SIG_IGN) sa.sa_handler = SIG_DFL;
  sa.sa_flags &= ~SA_NOCLDWAIT;
  sigaction(SIGCHLD, &sa, nullptr);
}

// uv_spawn makes the child's stdio blocking. The flag belongs to the
// open file, which parent and child share, so clearing it here is the
// same thing, done before the child exists.
int make_blocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return sys_error();
  if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return sys_error();
  return 0;
}

// The descriptors the child gets, as its fds 0..n-1. One that is itself
// among 0..n-1 but goes elsewhere is copied out of the way first: the
// child's dup2 calls run in order and could overwrite it before its use.
struct ChildFds {
  int src[kMaxFds];
  int moved[kMaxFds] = {-1, -1, -1, -1};
  int n = 0;

  ~ChildFds() {
    for (int fd : moved)
      if (fd >= 0) close(fd);
  }
};

int gather_fds(const uv_process_options_t& o, ChildFds* c) {
  if (o.stdio_count > kMaxFds) return UV_ENOSYS;
  c->n = o.stdio_count;
  for (int i = 0; i < c->n; i++) {
    if (o.stdio[i].flags != UV_INHERIT_FD) return UV_ENOSYS;
    c->src[i] = o.stdio[i].data.fd;
  }
  for (int i = 0; i < c->n; i++) {
    int fd = c->src[i];
    if (fd < c->n && fd != i) {
      c->moved[i] = fcntl(fd, F_DUPFD_CLOEXEC, c->n);
      if (c->moved[i] < 0) return sys_error();
      c->src[i] = c->moved[i];
    }
    if (i <= 2)
      if (int rc = make_blocking(c->src[i])) return rc;
  }
  return 0;
}

// posix_spawn's attributes and file actions, freed on every path.
struct SpawnAttrs {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;

  SpawnAttrs() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// What uv_spawn's child does before exec: every signal back to its
// default action (exec keeps ignored ones ignored), none blocked, its own
// session if detached, its fds and directory. NOTE: glibc leaves its two
// internal signals (32 and 33) ignored in the child whatever it is told;
// programs built on glibc set their own handlers for them anyway.
int describe(const uv_process_options_t& o, const ChildFds& c, SpawnAttrs* a) {
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (o.flags & UV_PROCESS_DETACHED) flags |= POSIX_SPAWN_SETSID;
  int err = posix_spawnattr_setsigmask(&a->attr, &none);
  if (!err) err = posix_spawnattr_setsigdefault(&a->attr, &all);
  if (!err) err = posix_spawnattr_setflags(&a->attr, flags);
  // dup2 of a descriptor onto itself clears its close-on-exec flag.
  for (int i = 0; i < c.n && !err; i++)
    err = posix_spawn_file_actions_adddup2(&a->actions, c.src[i], i);
  if (o.cwd && !err)
    err = posix_spawn_file_actions_addchdir_np(&a->actions, o.cwd);
  return err ? uv_translate_sys_error(err) : 0;
}

void on_pidfd(uv_poll_t* h, int, int) {
  auto* w = static_cast<ExitWatch*>(h->data);
  w->on_ready(w);
}

void on_sigchld(uv_signal_t* h, int) {
  auto* w = static_cast<ExitWatch*>(h->data);
  w->on_ready(w);
}

// A child that exited before its watch started sent its SIGCHLD to no
// one; raising one makes the first check happen.
int watch_by_signal(uv_loop_t* loop, ExitWatch* w) {
  if (int rc = uv_signal_init(loop, &w->h.signal)) return rc;
  w->h.signal.data = w;
  if (int rc = uv_signal_start(&w->h.signal, on_sigchld, SIGCHLD)) return rc;
  kill(getpid(), SIGCHLD);
  return 0;
}

int watch_by_pidfd(uv_loop_t* loop, ExitWatch* w) {
  w->fd = open_pidfd(w->pid);
  if (w->fd < 0) return sys_error();
  if (int rc = uv_poll_init(loop, &w->h.poll, w->fd)) {
    close(w->fd);
    w->fd = -1;
    return rc;
  }
  g_pidfds++;
  w->h.poll.data = w;
  return uv_poll_start(&w->h.poll, UV_READABLE, on_pidfd);
}

}  // namespace

int quick_spawn(uv_loop_t* loop, const uv_process_options_t& o, ExitWatch* w) {
  if (!have_pidfd() || (o.flags & ~UV_PROCESS_DETACHED)) return UV_ENOSYS;
  ChildFds fds;
  if (int rc = gather_fds(o, &fds)) return rc;
  SpawnAttrs attrs;
  if (int rc = describe(o, fds, &attrs)) return rc;
  keep_zombies();

  pid_t pid;
  int err = posix_spawn(&pid, o.file, &attrs.actions, &attrs.attr, o.args,
                        o.env ? o.env : environ);
  if (err) return uv_translate_sys_error(err);
  w->pid = pid;
  int rc = UV_EMFILE;
  if (pidfd_allowed()) rc = watch_by_pidfd(loop, w);
  if ((rc == UV_EMFILE || rc == UV_ENFILE) && !exit_watch_open(w))
    rc = watch_by_signal(loop, w);
  if (rc) {  // unwatched, the child would never be reaped
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  return rc;
}

bool quick_spawn_available() {
  return have_pidfd();
}

bool reap_quick(ExitWatch* w, int64_t* status, int* signal) {
  int st = 0;
  pid_t got;
  do got = waitpid(w->pid, &st, WNOHANG);
  while (got < 0 && errno == EINTR);
  if (got == 0) return false;
  if (w->fd >= 0)
    uv_poll_stop(&w->h.poll);
  else
    uv_signal_stop(&w->h.signal);
  *status = 0;
  *signal = 0;
  if (got < 0) {
    // Reaped by someone else (SIGCHLD set to SIG_IGN, a C module calling
    // waitpid): the child is gone and its status with it.
    *status = -1;
  } else if (WIFSIGNALED(st)) {
    *signal = WTERMSIG(st);
  } else {
    *status = WEXITSTATUS(st);
  }
  return true;
}

void release_quick_watch(ExitWatch* w) {
  if (w->fd < 0) return;
  close(w->fd);
  w->fd = -1;
  g_pidfds--;
}

}  // namespace proc
}  // namespace procrun
