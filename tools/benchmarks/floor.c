/* The floor for tools/bench: what a C program gets from posix_spawn,
 * waitpid and a plain read() loop, with no runtime in between.
 *
 *   floor spawn N cmd [args]   spawn and wait N times; us per spawn
 *   floor many N cmd [args]    start N at once, wait all; ms in all
 *   floor read cmd [args]      read the child's stdout to its end in
 *                              64 KiB reads; GB/s
 *   floor copy cmd [args]      the same through epoll, with non-blocking
 *                              reads and each chunk copied to a fresh
 *                              buffer: what a runtime that hands out a
 *                              new string per read pays at least
 *   floor exit N stamp FILE    N times: the child writes its exit time
 *                              to FILE; us from then to waitpid's return
 *
 * Prints one figure a line, the same as every other contender's script
 * under tools/benchmarks. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void die(const char* what) {
  perror(what);
  exit(1);
}

static pid_t start(char** argv, const posix_spawn_file_actions_t* fa) {
  pid_t pid;
  if (posix_spawnp(&pid, argv[0], fa, NULL, argv, environ) != 0)
    die(argv[0]);
  return pid;
}

static void reap(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid) die("waitpid");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "floor: child failed\n");
    exit(1);
  }
}

static void spawn(int n, char** argv) {
  for (int i = 0; i < n; i++) {
    double t0 = now_us();
    reap(start(argv, NULL));
    printf("%.1f\n", now_us() - t0);
  }
}

static void many(int n, char** argv) {
  pid_t* pids = calloc((size_t)n, sizeof *pids);
  double t0 = now_us();
  for (int i = 0; i < n; i++) pids[i] = start(argv, NULL);
  for (int i = 0; i < n; i++) reap(pids[i]);
  printf("%.1f\n", (now_us() - t0) / 1e3);
  free(pids);
}

/* Reads fd to its end as an event loop does: wait in epoll, read once
 * into room larger than the pipe holds, copy what came out to a fresh
 * buffer. Returns the bytes read. */
static long long read_copying(int fd) {
  static char buf[256 * 1024];
  struct epoll_event ev = {.events = EPOLLIN};
  int ep = epoll_create1(EPOLL_CLOEXEC);
  long long total = 0;
  ssize_t n;

  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll");
  fcntl(fd, F_SETFL, O_NONBLOCK);
  while (epoll_wait(ep, &ev, 1, -1) >= 0 &&
         (n = read(fd, buf, sizeof buf)) != 0) {
    if (n < 0) continue;  /* EAGAIN: woken for nothing */
    char* s = malloc((size_t)n);
    memcpy(s, buf, (size_t)n);
    __asm__ volatile("" : : "r"(s) : "memory");  /* keep the copy */
    free(s);
    total += n;
  }
  close(ep);
  return total;
}

static void read_all(char** argv, int copying) {
  static char buf[65536];
  int fds[2];
  posix_spawn_file_actions_t fa;
  long long total = 0;
  ssize_t n = 0;

  if (pipe(fds) != 0) die("pipe");
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  double t0 = now_us();
  pid_t pid = start(argv, &fa);
  close(fds[1]);
  if (copying)
    total = read_copying(fds[0]);
  else
    while ((n = read(fds[0], buf, sizeof buf)) > 0) total += n;
  if (n < 0) die("read");
  reap(pid);
  printf("%.3f\n", total / ((now_us() - t0) * 1e3));
  if (total != 1LL << 30) fprintf(stderr, "floor: read %lld bytes\n", total);
}

/* The exit time the child wrote, in us on CLOCK_MONOTONIC. */
static double stamp_of(const char* file) {
  FILE* f = fopen(file, "r");
  double ns = 0;
  if (!f || fscanf(f, "%lf", &ns) != 1) die(file);
  fclose(f);
  return ns / 1e3;
}

static void exit_latency(int n, char** argv) {
  for (int i = 0; i < n; i++) {
    reap(start(argv, NULL));
    double t = now_us();
    printf("%.1f\n", t - stamp_of(argv[1]));
  }
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: floor spawn|many|read|copy|exit [N] cmd [args]\n");
    return 2;
  }
  const char* mode = argv[1];
  if (strcmp(mode, "read") == 0 || strcmp(mode, "copy") == 0) {
    read_all(argv + 2, /*copying=*/mode[0] == 'c');
  } else if (argc >= 4 && strcmp(mode, "spawn") == 0) {
    spawn(atoi(argv[2]), argv + 3);
  } else if (argc >= 4 && strcmp(mode, "many") == 0) {
    many(atoi(argv[2]), argv + 3);
  } else if (argc >= 5 && strcmp(mode, "exit") == 0) {
    exit_latency(atoi(argv[2]), argv + 3);
  } else {
    fprintf(stderr, "floor: unknown mode '%s'\n", mode);
    return 2;
  }
  return 0;
}
