/*
 * A pause in C for the bench's start-up window: what Kubernetes' pause
 * container does, written for this bench (compiled `cc -Os -static`). Holds
 * on until SIGINT or SIGTERM, then exits 0; reaps any child that exits, so
 * no zombie is left in the namespace it is PID 1 of.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signo) {
  (void)signo;
  _exit(0);
}

static void reap(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
}

static void on(int signo, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  /* SA_RESTART: pause() below is not restarted anyway, and nothing else blocks. */
  action.sa_flags = SA_RESTART | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
  sigaction(signo, &action, NULL);
}

int main(void) {
  /* SIGCHLD last: the bench takes it caught for "handlers in place". */
  on(SIGINT, stop);
  on(SIGTERM, stop);
  on(SIGCHLD, reap);
  for (;;) pause();
}
