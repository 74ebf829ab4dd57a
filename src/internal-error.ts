// What init mode does when pause itself fails: an exception that nothing
// caught. Its own state can no longer be trusted (the failure may have left a
// reap half done, or the event loop unable to run), so it neither goes on
// supervising nor leaves through Node's exit, which drops the command's status,
// runs Node's tear-down (src/libc.ts exitNow says why that can stall) and, when
// pause is not PID 1, leaves the command running as an orphan. Instead, with
// the event loop never run again: stop the command as an engine would (SIGTERM
// and SIGCONT to its process group, SIGKILL once the grace period is over),
// reap it, SIGKILL the rest, and _exit with the command's status. Signals sent
// to pause meanwhile are no longer forwarded.
import { exitNow, kill, reapOne, ESRCH } from './libc.ts';
import { log } from './log.ts';
import { processesLeft } from './procfs.ts';
import { SIGCONT, SIGKILL, SIGTERM } from './signals.ts';
import { EXIT_INTERNAL } from './exit-codes.ts';
import { decodeWaitStatus, type ChildEnd } from './wait-status.ts';

/** How often the synchronous wind-down looks for exited children. */
const POLL_MS = 10;
/** Once the grace period is over, SIGKILL again this often what was forked since (as src/supervisor.ts). */
const KILL_SWEEP_MS = 100;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the (main) thread for `ms`; nothing else of pause runs meanwhile. */
function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export interface Supervised {
  /** The command's pid; 0 when it was not started. */
  readonly child: number;
  /** How the command ended, when pause has seen it. */
  readonly end: ChildEnd | null;
  readonly gracePeriodMs: number;
  readonly isPid1: boolean;
  /** /proc if it is pause's own PID namespace's, else null (src/procfs.ts, procState). */
  readonly procRoot: string | null;
  /** pause's exit code for the command's end (--remap-exit applied). */
  readonly exitCode: (end: ChildEnd) => number;
}

/** Says what failed in one line, stops what pause started, and exits: never returns. */
export function stopAfterInternalError(error: unknown, state: Supervised): never {
  const what = `internal error: ${error instanceof Error ? error.message : String(error)}`;
  if (state.child === 0) {
    log('error', what); // before the spawn: nothing of ours runs
    exitNow(EXIT_INTERNAL);
  }
  log('error', `${what}: ${state.end ? '' : 'stopping the command, '}ending what is left and exiting with the command's status`);
  try {
    const end = state.end ?? stopCommand(state.child, state.gracePeriodMs);
    killTheRest(state);
    exitNow(end === null ? EXIT_INTERNAL : state.exitCode(end));
  } catch {
    // Failing again: the least that must hold is that the command does not outlive pause.
    kill(-state.child, SIGKILL);
    exitNow(EXIT_INTERNAL);
  }
}

/**
 * SIGTERM and SIGCONT to the command's group, SIGKILL after `graceMs`; reaps
 * until the command is among the reaped. null when it cannot be waited for
 * (the failure came after waitpid had collected it, before its end was kept).
 */
function stopCommand(child: number, graceMs: number): ChildEnd | null {
  for (const signo of graceMs > 0 ? [SIGTERM, SIGCONT] : [SIGKILL]) kill(-child, signo);
  const deadline = Date.now() + graceMs;
  let killed = graceMs === 0;
  for (;;) {
    for (let result = reapOne(); result.kind !== 'none'; result = reapOne()) {
      if (result.kind === 'no-children') return null;
      if (result.pid === child) return decodeWaitStatus(result.status);
    }
    if (!killed && Date.now() >= deadline) {
      killed = true;
      // ESRCH: no group left, so no command to wait for (a zombie is still in its group until reaped).
      if (kill(-child, SIGKILL) === ESRCH) return null;
    }
    sleep(POLL_MS);
  }
}

/**
 * SIGKILL to the processes left, again every KILL_SWEEP_MS for those forked
 * since, reaping until no child is left. No grace period for them: the
 * command has had its own, and pause, failed, is not to be kept waiting.
 */
function killTheRest(state: Supervised): void {
  let sweep = 0;
  for (;;) {
    for (let result = reapOne(); result.kind !== 'none'; result = reapOne()) {
      if (result.kind === 'no-children') return;
    }
    if (Date.now() >= sweep) {
      for (const pid of processesLeft(state.child, state.isPid1, state.procRoot)) kill(pid, SIGKILL);
      sweep = Date.now() + KILL_SWEEP_MS;
    }
    sleep(POLL_MS);
  }
}
