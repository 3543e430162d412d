// open_closed_std_fds on POSIX: one fcntl per standard descriptor.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "runtime/std_fds.hpp"

namespace procrun {

void open_closed_std_fds() {
  for (int fd = 0; fd <= 2; fd++) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    // The lowest free descriptor is fd itself, as every lower one is open.
    int got = open("/dev/null", O_RDWR);
    if (got >= 0 && got != fd) {
      dup2(got, fd);
      close(got);
    }
  }
}

}  // namespace procrun
