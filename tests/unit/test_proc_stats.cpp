// The Linux /proc parsers behind proc.stats, fed what the kernel prints
// and what it might, and read_process_stats on live processes.
#if defined(__linux__)
#include <unistd.h>
#include <uv.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "modules/proc_stats_linux.hpp"

using namespace procrun::proc;

namespace {

// A /proc/PID/stat line: comm as given, then fields 3..52 where utime is
// 7, stime 3, num_threads 4 and starttime 1234.
std::string stat_line(const std::string& comm, char state = 'S') {
  return "4242 (" + comm + ") " + state +
         " 1 4242 4242 0 -1 4194304 120 0 0 0 7 3 0 0 20 0 4 0 1234"
         " 10000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0"
         " 0 0 0 0 0 0 0 0 0 0 0 0\n";
}

const char kStatus[] =
    "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\n"
    "VmPeak:\t    8000 kB\nVmSize:\t    7000 kB\nVmLck:\t       0 kB\n"
    "VmHWM:\t     900 kB\nVmRSS:\t     800 kB\nThreads:\t1\n";

}  // namespace

TEST_CASE("the stat fields are read after the command name", "[proc][stats]") {
  ProcStat st;
  REQUIRE(parse_proc_stat(stat_line("sleep"), &st));
  CHECK(st.state == 'S');
  CHECK(st.utime == 7);
  CHECK(st.stime == 3);
  CHECK(st.threads == 4);
  CHECK(st.starttime == 1234);
}

TEST_CASE("a command name with spaces and parentheses does not shift fields",
          "[proc][stats]") {
  for (const char* comm : {"a b", ") R 1 2 (", "x)", "((", "))) 9 9 9",
                           "tab\there", "new\nline", ""}) {
    CAPTURE(comm);
    ProcStat st;
    REQUIRE(parse_proc_stat(stat_line(comm, 'R'), &st));
    CHECK(st.state == 'R');
    CHECK(st.utime == 7);
    CHECK(st.threads == 4);
    CHECK(st.starttime == 1234);
  }
}

TEST_CASE("a malformed stat line is refused", "[proc][stats]") {
  ProcStat st;
  std::string full = stat_line("sh");
  CHECK_FALSE(parse_proc_stat("", &st));
  CHECK_FALSE(parse_proc_stat("4242 sh S 1 2 3", &st));  // no parentheses
  CHECK_FALSE(parse_proc_stat("4242 (sh) S 1 4242 4242 0 -1 0 1 0 0 0 7",
                              &st));  // cut short
  CHECK_FALSE(parse_proc_stat("4242 (sh)" + full.substr(10), &st));
  std::string bad_state = full;
  bad_state.replace(bad_state.find(") S") + 2, 1, "SS");
  CHECK_FALSE(parse_proc_stat(bad_state, &st));
  std::string bad_number = full;
  bad_number.replace(bad_number.find(" 1234 "), 6, " 12x4 ");
  CHECK_FALSE(parse_proc_stat(bad_number, &st));
  std::string overflow = full;
  overflow.replace(overflow.find(" 7 3 "), 5, " 99999999999999999999 3 ");
  CHECK_FALSE(parse_proc_stat(overflow, &st));
}

TEST_CASE("status memory lines are read in bytes", "[proc][stats]") {
  ProcStatus s;
  REQUIRE(parse_proc_status(kStatus, &s));
  CHECK(s.rss == 800 * 1024);
  CHECK(s.vms == 7000 * 1024);
  CHECK(s.peak_rss == 900 * 1024);
}

TEST_CASE("a status without memory lines gives zeros", "[proc][stats]") {
  ProcStatus s;
  s.rss = 1;
  REQUIRE(parse_proc_status("Name:\tdefunct\nState:\tZ (zombie)\n", &s));
  CHECK(s.rss == 0);
  CHECK(s.vms == 0);
  CHECK(s.peak_rss == 0);
}

TEST_CASE("a malformed status memory line is refused", "[proc][stats]") {
  ProcStatus s;
  CHECK_FALSE(parse_proc_status("VmRSS:\t 12 MB\n", &s));
  CHECK_FALSE(parse_proc_status("VmSize:\t kB\n", &s));
  CHECK_FALSE(parse_proc_status("VmHWM:\t -5 kB\n", &s));
  CHECK_FALSE(parse_proc_status("VmRSS:\t99999999999999999999 kB\n", &s));
}

TEST_CASE("a memory key only counts at the start of a line", "[proc][stats]") {
  ProcStatus s;
  REQUIRE(parse_proc_status("Name:\tVmRSS: 5 kB\nVmRSS:\t 7 kB\n", &s));
  CHECK(s.rss == 7 * 1024);
}

TEST_CASE("the boot time is the btime line of /proc/stat", "[proc][stats]") {
  int64_t btime = 0;
  REQUIRE(parse_boot_time(
      "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 5 6\nctxt 99\nbtime 1700000000\n"
      "processes 10\n",
      &btime));
  CHECK(btime == 1700000000);
  CHECK_FALSE(parse_boot_time("cpu 1 2 3\nctxt 4\n", &btime));
  CHECK_FALSE(parse_boot_time("btime soon\n", &btime));
}

TEST_CASE("state letters map to the four state names", "[proc][stats]") {
  CHECK(std::strcmp(state_name('R'), "running") == 0);
  for (char c : {'S', 'D', 'I', 'W', 'K', 'P', '?'}) {
    CAPTURE(c);
    CHECK(std::strcmp(state_name(c), "sleeping") == 0);
  }
  for (char c : {'T', 't'}) CHECK(std::strcmp(state_name(c), "stopped") == 0);
  for (char c : {'Z', 'X', 'x'})
    CHECK(std::strcmp(state_name(c), "zombie") == 0);
}

TEST_CASE("ticks become seconds and the start is counted from boot",
          "[proc][stats]") {
  ProcStat st;
  REQUIRE(parse_proc_stat(stat_line("sleep", 'T'), &st));
  ProcStatus status;
  REQUIRE(parse_proc_status(kStatus, &status));
  ProcessStats s = combine_stats(st, status, 1700000000, 100);
  CHECK(s.cpu_user == Approx(0.07));
  CHECK(s.cpu_sys == Approx(0.03));
  CHECK(s.started == Approx(1700000012.34));
  CHECK(s.threads == 4);
  CHECK(s.rss == 800 * 1024);
  CHECK(std::strcmp(s.state, "stopped") == 0);
}

TEST_CASE("this process's stats are read live", "[proc][stats]") {
  ProcessStats s;
  REQUIRE(read_process_stats(getpid(), &s) == 0);
  CHECK(s.rss > 0);
  CHECK(s.vms >= s.rss);
  CHECK(s.peak_rss >= s.rss);
  CHECK(s.threads >= 1);
  CHECK(std::strcmp(s.state, "running") == 0);
}

TEST_CASE("stats of a pid that cannot exist is ESRCH", "[proc][stats]") {
  ProcessStats s;
  CHECK(read_process_stats(0, &s) == UV_ESRCH);
  CHECK(read_process_stats(2147483647, &s) == UV_ESRCH);
}
#endif
