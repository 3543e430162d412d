// The launcher on POSIX systems (see proc_launcher.hpp). Its command line:
//
//   procrun MARKER [autokill=PPID] [limit=NAME=AMOUNT]... -- FILE ARGV...
//
// MARKER holds a control character, so no command line a person types or
// a script builds by accident starts the launcher; and only a call with
// the report pipe's write end as fd 3 does (is_launcher_call).
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules/proc_launcher.hpp"
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace procrun {
namespace proc {
namespace {

const char kMarker[] = "\x01procrun-launch";
const int kReportFd = 3;

// What the launcher sends back when something fails: the step and errno.
struct Report {
  char what[32];
  int err;
};

int limit_resource(const char* name) {
  if (std::strcmp(name, "cpu") == 0) return RLIMIT_CPU;
  if (std::strcmp(name, "mem") == 0) return RLIMIT_AS;
  if (std::strcmp(name, "nofile") == 0) return RLIMIT_NOFILE;
  if (std::strcmp(name, "nproc") == 0) return RLIMIT_NPROC;
  if (std::strcmp(name, "core") == 0) return RLIMIT_CORE;
  return -1;
}

[[noreturn]] void fail(const char* what, int err) {
  Report r = {};
  std::snprintf(r.what, sizeof r.what, "%s", what);
  r.err = err;
  ssize_t n;
  do {
    n = write(kReportFd, &r, sizeof r);
  } while (n < 0 && errno == EINTR);
  _exit(127);
}

// Dies with the parent: the kernel sends SIGKILL when procrun ends, however
// it ends. If procrun died before this line, the launcher was reparented
// already and kills itself.
void apply_autokill(const char* ppid) {
#ifdef __linux__
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) fail("autokill", errno);
  if (getppid() != std::atoi(ppid)) raise(SIGKILL);
#else
  (void)ppid;
  fail("autokill", ENOSYS);  // TODO: kqueue NOTE_EXIT watcher on macOS
#endif
}

// cpu: SIGXCPU at the limit, SIGKILL a second later (the hard limit).
void apply_limit(const char* spec) {
  char name[16];
  const char* eq = std::strchr(spec, '=');
  size_t len = eq ? size_t(eq - spec) : 0;
  if (!eq || len >= sizeof name) fail("launcher", EINVAL);
  std::memcpy(name, spec, len);
  name[len] = '\0';
  int resource = limit_resource(name);
  double amount = std::strtod(eq + 1, nullptr);
  rlim_t v =
      amount >= 1.8e19 ? RLIM_INFINITY : static_cast<rlim_t>(std::ceil(amount));
  struct rlimit rl = {v, v};
  if (resource == RLIMIT_CPU && v != RLIM_INFINITY) rl.rlim_max = v + 1;
  if (resource < 0 || setrlimit(resource, &rl) != 0) {
    char what[32];
    std::snprintf(what, sizeof what, "limit '%s'", name);
    fail(what, resource < 0 ? EINVAL : errno);
  }
}

}  // namespace

bool needs_launcher(const SpawnSpec& s) {
  return s.autokill || !s.limits.empty();
}

int open_launch_report(LaunchSetup* ls) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return uv_translate_sys_error(errno);
  ls->report = fds[0];
  ls->child = fds[1];
  return 0;
}

void wrap_in_launcher(SpawnSpec& s, const std::string& exe) {
  std::vector<std::string> args = {exe, kMarker};
  if (s.autokill) args.push_back("autokill=" + std::to_string(getpid()));
  char amount[64];
  for (const auto& limit : s.limits) {
    std::snprintf(amount, sizeof amount, "%.17g", limit.second);
    args.push_back("limit=" + limit.first + "=" + amount);
  }
  args.push_back("--");
  args.push_back(s.file);
  args.insert(args.end(), s.args.begin(), s.args.end());
  s.args.swap(args);
  s.file = exe;
}

int read_launch_report(LaunchSetup* ls, std::string* what) {
  close(ls->child);
  ls->child = -1;
  Report r;
  size_t got = 0;
  while (got < sizeof r) {
    ssize_t n =
        read(ls->report, reinterpret_cast<char*>(&r) + got, sizeof r - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(ls->report);
  ls->report = -1;
  if (got < sizeof r) return 0;  // the pipe closed on exec: all is well
  r.what[sizeof r.what - 1] = '\0';
  *what = r.what;
  return uv_translate_sys_error(r.err);
}

void close_launch(LaunchSetup* ls) {
  if (ls->child >= 0) close(ls->child);
  if (ls->report >= 0) close(ls->report);
  ls->child = ls->report = -1;
}

// The marker alone could still be an app's first argument, so the call
// must also have what spawn_process always hands the launcher: the write
// end of a pipe as fd 3. Costs nothing unless the marker is there.
bool is_launcher_call(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], kMarker) != 0) return false;
  int flags = fcntl(kReportFd, F_GETFL);
  struct stat st;
  return flags >= 0 && (flags & O_ACCMODE) == O_WRONLY &&
         fstat(kReportFd, &st) == 0 && S_ISFIFO(st.st_mode);
}

int run_launcher(int argc, char** argv) {
  int i = 2;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; i++) {
    if (std::strncmp(argv[i], "autokill=", 9) == 0)
      apply_autokill(argv[i] + 9);
    else if (std::strncmp(argv[i], "limit=", 6) == 0)
      apply_limit(argv[i] + 6);
    else
      fail("launcher", EINVAL);
  }
  if (i + 2 >= argc) fail("launcher", EINVAL);
  if (fcntl(kReportFd, F_SETFD, FD_CLOEXEC) != 0) _exit(127);
  // The file was resolved by the parent; execv does not search PATH and,
  // unlike execvp, never hands a file it cannot run to /bin/sh.
  execv(argv[i + 1], argv + i + 2);
  fail("", errno);
}

}  // namespace proc
}  // namespace procrun
