// The Linux side of proc_stats.hpp: pure parsers over the text of the
// /proc files, so that unit tests can feed them whatever the kernel might
// print. Each returns false when the text is not what it expects.
#pragma once

#include <cstdint>
#include <string>

#include "modules/proc_stats.hpp"

namespace procrun {
namespace proc {

// The fields of /proc/PID/stat that stats uses; times are in clock ticks.
struct ProcStat {
  char state = 0;
  uint64_t utime = 0;
  uint64_t stime = 0;
  int64_t threads = 0;
  uint64_t starttime = 0;  // ticks after boot
};

// Memory figures of /proc/PID/status, in bytes. A process without an
// address space (a zombie, a kernel thread) has none of these lines: the
// figures stay 0.
struct ProcStatus {
  uint64_t rss = 0;       // VmRSS
  uint64_t vms = 0;       // VmSize
  uint64_t peak_rss = 0;  // VmHWM
};

// The command name in /proc/PID/stat may hold spaces and parentheses, so
// the fields are read from after the last ')'.
bool parse_proc_stat(const std::string& text, ProcStat* out);
bool parse_proc_status(const std::string& text, ProcStatus* out);
// The boot time ("btime" in /proc/stat), seconds since the epoch.
bool parse_boot_time(const std::string& text, int64_t* btime);
// The name stats gives the state letter of /proc/PID/stat.
const char* state_name(char code);
// Puts the parsed figures together; ticks is sysconf(_SC_CLK_TCK).
ProcessStats combine_stats(const ProcStat& stat, const ProcStatus& status,
                           int64_t btime, long ticks);

}  // namespace proc
}  // namespace procrun
