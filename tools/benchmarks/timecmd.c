/* Times whole commands, interleaved round by round so that drift on a
 * noisy machine hits them alike:
 *
 *   timecmd ROUNDS -- cmd1 [args] -- cmd2 [args] ...
 *
 * Each command runs ROUNDS times through posix_spawn + wait4 with stdout
 * and stderr on /dev/null. Prints one line per command:
 *   median_us min_us max_us median_rss_kib max_rss_kib
 * from each run's peak RSS (ru_maxrss). That varies from run to run, as
 * address-space randomization shifts which file pages the kernel maps
 * around each one touched. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

/* Runs argv once; returns microseconds, or -1 if it did not exit 0. */
static double run_once(char** argv, const posix_spawn_file_actions_t* fa,
                       double* maxrss) {
  pid_t pid;
  int status;
  struct rusage ru;
  double t0 = now_us();
  if (posix_spawnp(&pid, argv[0], fa, NULL, argv, environ) != 0) return -1;
  if (wait4(pid, &status, 0, &ru) != pid) return -1;
  double t = now_us() - t0;
  *maxrss = ru.ru_maxrss;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? t : -1;
}

int main(int argc, char** argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: timecmd ROUNDS -- cmd [args] [-- cmd ...]\n");
    return 2;
  }
  int rounds = atoi(argv[1]);
  char** cmds[64];
  int ncmd = 0;
  for (int i = 2; i < argc && ncmd < 64; i++)
    if (strcmp(argv[i], "--") == 0) {
      argv[i] = NULL;
      if (i + 1 < argc) cmds[ncmd++] = &argv[i + 1];
    }

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);

  double* t = calloc((size_t)rounds * ncmd, sizeof *t);
  double* rss = calloc((size_t)rounds * ncmd, sizeof *rss);
  for (int r = 0; r < rounds; r++)
    for (int c = 0; c < ncmd; c++) {
      double us = run_once(cmds[c], &fa, &rss[c * rounds + r]);
      if (us < 0) {
        fprintf(stderr, "timecmd: %s failed\n", cmds[c][0]);
        return 1;
      }
      t[c * rounds + r] = us;
    }
  for (int c = 0; c < ncmd; c++) {
    double *s = t + c * rounds, *m = rss + c * rounds;
    qsort(s, rounds, sizeof *s, cmp);
    qsort(m, rounds, sizeof *m, cmp);
    printf("%.1f %.1f %.1f %.0f %.0f\n", s[rounds / 2], s[0],
           s[rounds - 1], m[rounds / 2], m[rounds - 1]);
  }
  return 0;
}
