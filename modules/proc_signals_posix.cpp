// Signal names for p:kill, with or without the "SIG" prefix.
#include <csignal>
#include <cstring>

#include "modules/proc.hpp"

namespace procrun {
namespace proc {
namespace {

struct SignalName {
  const char* name;
  int number;
};

const SignalName kSignals[] = {
    {"ABRT", SIGABRT},     {"ALRM", SIGALRM},   {"BUS", SIGBUS},
    {"CHLD", SIGCHLD},     {"CONT", SIGCONT},   {"FPE", SIGFPE},
    {"HUP", SIGHUP},       {"ILL", SIGILL},     {"INT", SIGINT},
    {"KILL", SIGKILL},     {"PIPE", SIGPIPE},   {"PROF", SIGPROF},
    {"QUIT", SIGQUIT},     {"SEGV", SIGSEGV},   {"STOP", SIGSTOP},
    {"SYS", SIGSYS},       {"TERM", SIGTERM},   {"TRAP", SIGTRAP},
    {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},
    {"URG", SIGURG},       {"USR1", SIGUSR1},   {"USR2", SIGUSR2},
    {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH}, {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ},
};

}  // namespace

int signal_by_name(const char* name) {
  if (std::strncmp(name, "SIG", 3) == 0) name += 3;
  for (const SignalName& s : kSignals)
    if (std::strcmp(s.name, name) == 0) return s.number;
  return -1;
}

}  // namespace proc
}  // namespace procrun
