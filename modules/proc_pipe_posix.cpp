// Pipes and SIGPIPE on POSIX systems.
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <csignal>

namespace procrun {
namespace proc {
namespace {

int g_sigpipe_holds = 0;
struct sigaction g_saved_sigpipe;

}  // namespace

// Both ends close on exec; libuv dups the child's end onto its stdio fd.
int make_os_pipe(uv_file fds[2]) {
  return pipe2(fds, O_CLOEXEC) == 0 ? 0 : uv_translate_sys_error(errno);
}

void close_os_fd(uv_file fd) {
  close(fd);
}

// One read(2) of a non-blocking pipe: bytes read, 0 at the end of the
// stream, or a negative libuv error (UV_EAGAIN when it is empty).
long read_now(uv_file fd, char* buf, size_t len) {
  ssize_t n;
  do n = read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n >= 0 ? static_cast<long>(n) : uv_translate_sys_error(errno);
}

int open_null_device(bool for_write, uv_file* fd) {
  *fd = open("/dev/null", (for_write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
  return *fd >= 0 ? 0 : uv_translate_sys_error(errno);
}

// Ignoring SIGPIPE for good would leave a script printing into a closed
// stdout spinning forever (print drops the error), so procrun ignores it
// only while one of its own pipe writes is in flight.
void hold_sigpipe() {
  if (g_sigpipe_holds++ > 0) return;
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ign, &g_saved_sigpipe);
}

void release_sigpipe() {
  if (--g_sigpipe_holds == 0) sigaction(SIGPIPE, &g_saved_sigpipe, nullptr);
}

}  // namespace proc
}  // namespace procrun
