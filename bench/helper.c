/*
 * Bench helper, compiled at bench time when a C compiler is present.
 *
 *   helper recv          block SIGUSR1 and SIGUSR2, print "ready", then for each
 *                        of them received print CLOCK_MONOTONIC in ns on its own
 *                        line. The forwarding benchmark's child, the same for every init.
 *   helper send N SIGNO SETTLE_MS PROG...
 *                        run PROG (an init whose command is `helper recv`) with
 *                        its stdout on a pipe, wait for "ready", then N times:
 *                        read CLOCK_MONOTONIC, kill(PROG, SIGNO), read the
 *                        child's stamp, print the difference in ns. The first
 *                        goes at once, while PROG may still be starting; then
 *                        a pause of SETTLE_MS, so that the rest measure
 *                        forwarding alone, not what is left of start-up. Then
 *                        SIGTERM to PROG, and SIGKILL if it is not gone in 5 s.
 *                        The sender is C so that no garbage collector of the
 *                        bench's own runs between its clock and its kill.
 *   helper time PROG...  run PROG once (stdio to /dev/null), print the ns from
 *                        fork to its reaping, its wait status, and the CPU ns
 *                        (user + system, all threads) it used.
 *   helper window [-c FILE]... [-w MS] [-T S] READY PROG...
 *                        the start-up window: in a new PID namespace (PROG is
 *                        its PID 1), after writing "0" to each FILE (a
 *                        cgroup's cgroup.procs: the child joins it before it
 *                        executes PROG), run PROG and read /proc/PID/status
 *                        every 200 us until READY holds: sigign:N, sigcgt:N
 *                        or sigblk:N (signal N ignored, caught or blocked),
 *                        or `child` (PROG has started a child: an init that
 *                        blocks its signals before it spawns, as tini, whose
 *                        mask /proc shows empty while it sits in sigtimedwait),
 *                        or `exit` (PROG has exited: a start-up floor).
 *                        Then SIGTERM, and SIGKILL if PROG has not exited
 *                        within MS (default 10000). Prints: ns from fork to
 *                        READY (-1 if PROG exited or S seconds, default 120, passed first),
 *                        major faults by then, ns from the SIGTERM to the
 *                        reaping, the wait status, CPU ns and major faults
 *                        of the whole run.
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
#include <sched.h>
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

/* In a child: stdio to /dev/null, then argv; 127 if it cannot be executed. */
static void exec_quietly(char **argv) {
  int null = open("/dev/null", O_RDWR);
  dup2(null, 0);
  dup2(null, 1);
  dup2(null, 2);
  execvp(argv[0], argv);
  _exit(127);
}

static int time_once(char **argv) {
  long long start = now_ns();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) exec_quietly(argv);
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

static int send_loop(int count, int signo, int settle_ms, char **argv) {
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
    if (done == 0 && settle_ms > 0) usleep(settle_ms * 1000);
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

/* Signal n is in the hexadecimal mask of the /proc/PID/status line `field`. */
static int status_has(pid_t pid, const char *field, int n) {
  char path[64], buf[4096];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return 0;
  buf[len] = '\0';
  char *line = strstr(buf, field);
  if (!line) return 0;
  unsigned long long mask = strtoull(line + strlen(field), NULL, 16);
  return (mask >> (n - 1)) & 1;
}

/* Field 12 of /proc/PID/stat: major faults of the whole process so far. */
static long long major_faults(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = '\0';
  char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  long long value = -1;
  if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %lld", &value) != 1) value = -1;
  return value;
}

/* PROG's main thread has a child. */
static int has_child(pid_t pid) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t len = read(fd, buf, sizeof buf);
  close(fd);
  return len > 0;
}

static int join_cgroups(char **files, int count) {
  for (int i = 0; i < count; i++) {
    int fd = open(files[i], O_WRONLY);
    if (fd < 0 || write(fd, "0\n", 2) != 2) return -1;
    close(fd);
  }
  return 0;
}

static int window(int argc, char **argv) {
  char *cgroups[8];
  int ncgroups = 0, kill_ms = 10000, limit_s = 120, i = 2;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "-c") == 0 && ncgroups < 8) cgroups[ncgroups++] = argv[i + 1];
    else if (strcmp(argv[i], "-w") == 0) kill_ms = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "-T") == 0) limit_s = atoi(argv[i + 1]);
    else return 2;
  }
  if (i + 1 >= argc) return 2;
  char kind[16];
  int signo = 0;
  const char *field = NULL;
  int child = strcmp(argv[i], "child") == 0, until_exit = strcmp(argv[i], "exit") == 0;
  if (!child && !until_exit) {
    if (sscanf(argv[i], "sig%3[a-z]:%d", kind, &signo) != 2) return 2;
    field = strcmp(kind, "ign") == 0 ? "SigIgn:" : strcmp(kind, "cgt") == 0 ? "SigCgt:" : strcmp(kind, "blk") == 0 ? "SigBlk:" : NULL;
    if (!field) return 2;
  }
  char **prog = argv + i + 1;
  if (unshare(CLONE_NEWPID) != 0) { perror("helper window: unshare"); return 1; }
  long long start = now_ns();
  pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    if (join_cgroups(cgroups, ncgroups) != 0) _exit(126);
    exec_quietly(prog);
  }
  long long ready = -1, faults_ready = -1;
  struct timespec tick = { 0, 200000 };
  int status = 0, exited = 0;
  struct rusage usage;
  while (now_ns() - start < limit_s * 1000000000LL) {
    if (!until_exit && (child ? has_child(pid) : status_has(pid, field, signo))) { ready = now_ns() - start; faults_ready = major_faults(pid); break; }
    if (wait4(pid, &status, WNOHANG, &usage) == pid) { exited = 1; if (until_exit) ready = now_ns() - start; break; }
    nanosleep(&tick, NULL);
  }
  long long term = now_ns();
  if (!exited) {
    kill(pid, SIGTERM);
    for (;;) {
      if (wait4(pid, &status, WNOHANG, &usage) == pid) break;
      if (now_ns() - term > (long long)kill_ms * 1000000LL) { kill(pid, SIGKILL); wait4(pid, &status, 0, &usage); break; }
      nanosleep(&tick, NULL);
    }
  }
  long long stopped = exited ? -1 : now_ns() - term;
  long long cpu = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000LL
    + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000LL;
  printf("%lld %lld %lld %d %lld %ld\n", ready, faults_ready, stopped, status, cpu, usage.ru_majflt);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "window") == 0) return window(argc, argv);
  if (argc >= 2 && strcmp(argv[1], "recv") == 0) return recv_loop();
  if (argc >= 3 && strcmp(argv[1], "time") == 0) return time_once(argv + 2);
  if (argc == 3 && strcmp(argv[1], "storm") == 0) return storm(atoi(argv[2]));
  if (argc >= 6 && strcmp(argv[1], "send") == 0) return send_loop(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argv + 5);
  fprintf(stderr, "usage: helper recv | helper time PROG [ARG...] | helper storm N | helper send N SIGNO SETTLE_MS PROG [ARG...] | helper window [-c FILE]... [-w MS] [-T S] READY PROG [ARG...]\n");
  return 2;
}
