// read_process_stats on Linux: the figures of /proc/PID/stat, of
// /proc/PID/status and the boot time of /proc/stat, as proc(5) describes
// them.
#include "modules/proc_stats_linux.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstdio>
#include <limits>
#include <string_view>
#include <vector>

namespace procrun {
namespace proc {
namespace {

// Field numbers as proc(5) counts them in /proc/PID/stat (1 is the pid,
// 2 the command name in parentheses).
constexpr size_t kFieldState = 3;
constexpr size_t kFieldUtime = 14;
constexpr size_t kFieldStime = 15;
constexpr size_t kFieldThreads = 20;
constexpr size_t kFieldStarttime = 22;

std::string_view trim(std::string_view s) {
  const char* kBlank = " \t\n";
  size_t first = s.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kBlank) - first + 1);
}

// s as a decimal number: digits only, no sign, no overflow.
bool to_u64(std::string_view s, uint64_t* out) {
  const uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t n = 0;
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    unsigned digit = static_cast<unsigned>(c - '0');
    if (n > (kMax - digit) / 10) return false;
    n = n * 10 + digit;
  }
  *out = n;
  return true;
}

bool to_i64(std::string_view s, int64_t* out) {
  uint64_t n;
  if (!to_u64(s, &n) || n > std::numeric_limits<int64_t>::max()) return false;
  *out = static_cast<int64_t>(n);
  return true;
}

// The rest of the first line that starts with key; false if none does.
bool line_after(std::string_view text, std::string_view key,
                std::string_view* rest) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    if (line.substr(0, key.size()) == key) {
      *rest = line.substr(key.size());
      return true;
    }
    at = end + 1;
  }
  return false;
}

// A "VmRSS:    1234 kB" line of /proc/PID/status, in bytes. A missing
// line leaves *bytes alone; a malformed one is an error.
bool read_kb(std::string_view text, std::string_view key, uint64_t* bytes) {
  std::string_view rest;
  if (!line_after(text, key, &rest)) return true;
  rest = trim(rest);
  std::string_view unit = "kB";
  if (rest.size() < unit.size() ||
      rest.substr(rest.size() - unit.size()) != unit)
    return false;
  uint64_t kb;
  if (!to_u64(trim(rest.substr(0, rest.size() - unit.size())), &kb) ||
      kb > std::numeric_limits<uint64_t>::max() / 1024)
    return false;
  *bytes = kb * 1024;
  return true;
}

// The fields after the command name, numbered from kFieldState on.
std::vector<std::string_view> fields_after_comm(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t close = text.rfind(')');
  if (close == std::string_view::npos) return fields;
  std::string_view rest = text.substr(close + 1);
  if (rest.empty() || rest[0] != ' ') return fields;
  size_t at = 0;
  while (true) {
    at = rest.find_first_not_of(" \n", at);
    if (at == std::string_view::npos) break;
    size_t end = rest.find_first_of(" \n", at);
    if (end == std::string_view::npos) end = rest.size();
    fields.push_back(rest.substr(at, end - at));
    at = end;
  }
  return fields;
}

// A file that may belong to a process that is gone: not finding it, or
// the kernel saying so, both mean there is no such process.
int gone_or_error(int err) {
  return err == ENOENT || err == ESRCH ? UV_ESRCH : uv_translate_sys_error(err);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// The whole of a /proc file (their size is not known in advance). Returns
// 0 or an errno value.
int read_file(int dir, const char* name, std::string* text) {
  Fd fd(openat(dir, name, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  char chunk[4096];
  while (true) {
    ssize_t n = read(fd.get(), chunk, sizeof chunk);
    if (n > 0) {
      text->append(chunk, static_cast<size_t>(n));
    } else if (n == 0) {
      return 0;
    } else if (errno != EINTR) {
      return errno;
    }
  }
}

// The per-process files, read through one open /proc/PID directory: if
// the process dies and its pid is reused meanwhile, the directory still
// names the dead one and reads fail, so no figure of another process
// gets mixed in.
int read_pid_files(int pid, std::string* stat, std::string* status) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d", pid);
  Fd dir(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) return gone_or_error(errno);
  if (int err = read_file(dir.get(), "stat", stat)) return gone_or_error(err);
  if (int err = read_file(dir.get(), "status", status))
    return gone_or_error(err);
  return stat->empty() || status->empty() ? UV_ESRCH : 0;
}

}  // namespace

bool parse_proc_stat(const std::string& text, ProcStat* out) {
  std::vector<std::string_view> f = fields_after_comm(text);
  auto field = [&f](size_t n) { return f[n - kFieldState]; };
  if (f.size() <= kFieldStarttime - kFieldState) return false;
  if (field(kFieldState).size() != 1) return false;
  out->state = field(kFieldState)[0];
  return to_u64(field(kFieldUtime), &out->utime) &&
         to_u64(field(kFieldStime), &out->stime) &&
         to_i64(field(kFieldThreads), &out->threads) &&
         to_u64(field(kFieldStarttime), &out->starttime);
}

bool parse_proc_status(const std::string& text, ProcStatus* out) {
  *out = ProcStatus();
  return read_kb(text, "VmRSS:", &out->rss) &&
         read_kb(text, "VmSize:", &out->vms) &&
         read_kb(text, "VmHWM:", &out->peak_rss);
}

bool parse_boot_time(const std::string& text, int64_t* btime) {
  std::string_view rest;
  return line_after(text, "btime ", &rest) && to_i64(trim(rest), btime);
}

// Letters beyond the four groups of the contract: W (paging before 2.6,
// waking in 2.6.33-3.13), K (wakekill) and P (parked) are ways of waiting,
// so sleeping; X and x (dead) are as gone as a zombie. A letter no kernel
// has documented also reads as sleeping: the process is neither known to
// run nor stopped nor dead.
const char* state_name(char code) {
  switch (code) {
    case 'R':
      return "running";
    case 'T':
    case 't':
      return "stopped";
    case 'Z':
    case 'X':
    case 'x':
      return "zombie";
    default:
      return "sleeping";  // S, D, I, W, K, P
  }
}

ProcessStats combine_stats(const ProcStat& stat, const ProcStatus& status,
                           int64_t btime, long ticks) {
  ProcessStats s;
  double hz = static_cast<double>(ticks);
  s.rss = status.rss;
  s.vms = status.vms;
  s.peak_rss = status.peak_rss;
  s.cpu_user = static_cast<double>(stat.utime) / hz;
  s.cpu_sys = static_cast<double>(stat.stime) / hz;
  s.threads = stat.threads;
  s.started =
      static_cast<double>(btime) + static_cast<double>(stat.starttime) / hz;
  s.state = state_name(stat.state);
  return s;
}

// A /proc file that does not parse means a kernel this code does not
// understand: reported as EIO rather than as made-up figures.
int read_process_stats(int pid, ProcessStats* out) {
  std::string stat_text, status_text, boot_text;
  if (int rc = read_pid_files(pid, &stat_text, &status_text)) return rc;
  if (int err = read_file(AT_FDCWD, "/proc/stat", &boot_text))
    return uv_translate_sys_error(err);

  ProcStat stat;
  ProcStatus status;
  int64_t btime;
  long ticks = sysconf(_SC_CLK_TCK);
  if (!parse_proc_stat(stat_text, &stat) ||
      !parse_proc_status(status_text, &status) ||
      !parse_boot_time(boot_text, &btime) || ticks <= 0)
    return UV_EIO;
  *out = combine_stats(stat, status, btime, ticks);
  return 0;
}

}  // namespace proc
}  // namespace procrun
