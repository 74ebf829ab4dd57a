/*
 * Bench helper, compiled at bench time when a C compiler is present.
 *
 *   helper recv          block SIGUSR1 and SIGUSR2, print "ready", then for each
 *                        of them received print CLOCK_MONOTONIC in ns on its own
 *                        line. The forwarding benchmark's child, the same for every init.
 *   helper send N SIGNO PROG...
 *                        run PROG (an init whose command is `helper recv`) with
 *                        its stdout on a pipe, wait for "ready", then N times:
 *                        read CLOCK_MONOTONIC, kill(PROG, SIGNO), read the
 *                        child's stamp, print the difference in ns. Then
 *                        SIGTERM to PROG, and SIGKILL if it is not gone in 5 s.
 *                        The sender is C so that no garbage collector of the
 *                        bench's own runs between its clock and its kill.
 *   helper time PROG...  run PROG once (stdio to /dev/null), print the ns from
 *                        fork to its reaping, its wait status, and the CPU ns
 *                        (user + system, all threads) it used.
 *   helper storm N       make N orphans that exit at once: a child forks N
 *                        grandchildren, which wait on a pipe, and exits, leaving
 *                        them to the namespace's reaper; then the pipe's last
 *                        write end is closed and all N exit together. Prints
 *                        CLOCK_MONOTONIC in ns at that release.
 *
 * sigwaitinfo() takes the signal synchronously: no handler, no libc buffering
 * between the kernel's delivery and the timestamp.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int recv_loop(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) return 1;
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("ready\n");
  for (;;) {
    if (sigwaitinfo(&set, NULL) < 0) continue;
    printf("%lld\n", now_ns());
  }
}

static int time_once(char **argv) {
  long long start = now_ns();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  struct rusage usage;
  while (wait4(pid, &status, 0, &usage) < 0) {}
  long long elapsed = now_ns() - start;
  long long cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL
    + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
  printf("%lld %d %lld\n", elapsed, status, cpu);
  return 0;
}

/* One line from fd into line (NUL-terminated, newline dropped), within timeout_ms. */
static int read_line(int fd, char *line, size_t size, int timeout_ms) {
  size_t used = 0;
  long long deadline = now_ns() + (long long)timeout_ms * 1000000LL;
  for (;;) {
    long long left = (deadline - now_ns()) / 1000000LL;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (left < 0 || poll(&p, 1, (int)left) <= 0) return -1;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return -1;
    if (c == '\n') { line[used] = '\0'; return 0; }
    if (used + 1 < size) line[used++] = c;
  }
}

static int send_loop(int count, int signo, char **argv) {
  int out[2];
  if (pipe(out) != 0) return 1;
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(out[1], 1);
    dup2(null, 2);
    close(out[0]);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(out[1]);
  char line[64];
  int failed = read_line(out[0], line, sizeof line, 15000) != 0 || strcmp(line, "ready") != 0;
  if (failed) fprintf(stderr, "helper send: the receiver did not start\n");
  /* Kept until the end: printing as it goes would wake the bench, which
   * reads them, in the middle of the measurement (each time stdio's buffer fills). */
  long long *latency = calloc(count > 0 ? count : 1, sizeof *latency);
  int done = 0;
  if (!latency) failed = 1;
  for (; done < count && !failed; done++) {
    long long sent = now_ns();
    kill(pid, signo);
    if (read_line(out[0], line, sizeof line, 2000) != 0) {
      fprintf(stderr, "helper send: no stamp for signal %d within 2 s\n", done);
      failed = 1;
      break;
    }
    latency[done] = atoll(line) - sent;
  }
  for (int i = 0; i < done && !failed; i++) printf("%lld\n", latency[i]);
  free(latency);
  kill(pid, SIGTERM);
  for (int waited = 0; waitpid(pid, NULL, WNOHANG) == 0; waited++) {
    if (waited == 5000) { kill(pid, SIGKILL); waitpid(pid, NULL, 0); break; }
    usleep(1000);
  }
  return failed;
}

static int storm(int count) {
  int gate[2];
  if (pipe(gate) != 0) return 1;
  pid_t middle = fork();
  if (middle < 0) return 1;
  if (middle == 0) {
    for (int i = 0; i < count; i++) {
      pid_t pid = fork();
      if (pid < 0) _exit(1);
      if (pid == 0) {
        /* Wait at the gate: read() returns 0 once every write end is closed. */
        char byte;
        close(gate[1]);
        while (read(gate[0], &byte, 1) < 0) {}
        _exit(0);
      }
    }
    _exit(0); /* leaves all of them to the namespace's reaper */
  }
  close(gate[0]);
  int status = 0;
  while (waitpid(middle, &status, 0) < 0) {}
  if (status != 0) return 1;
  long long released = now_ns();
  close(gate[1]); /* every orphan exits now */
  printf("%lld\n", released);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "recv") == 0) return recv_loop();
  if (argc >= 3 && strcmp(argv[1], "time") == 0) return time_once(argv + 2);
  if (argc == 3 && strcmp(argv[1], "storm") == 0) return storm(atoi(argv[2]));
  if (argc >= 5 && strcmp(argv[1], "send") == 0) return send_loop(atoi(argv[2]), atoi(argv[3]), argv + 4);
  fprintf(stderr, "usage: helper recv | helper time PROG [ARG...] | helper storm N | helper send N SIGNO PROG [ARG...]\n");
  return 2;
}
