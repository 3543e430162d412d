/* The child for the exit-latency row of tools/bench: writes the time it
 * exits (CLOCK_MONOTONIC, in ns) to FILE and exits at once, so that the
 * parent can tell how long it took to notice.
 *   stamp FILE */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  char text[32];
  struct timespec ts;
  int fd;

  if (argc != 2) return 2;
  fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 1;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  snprintf(text, sizeof text, "%lld\n",
           (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
  if (write(fd, text, strlen(text)) < 0) return 1;
  _exit(0);  /* no stdio flush or atexit work after the stamp */
}
