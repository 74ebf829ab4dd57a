// Runs a command as PID 1 of a new PID namespace, as a container runtime would.
import { getuid } from 'node:process';
import { start, waitFor, childrenOf, exeOf, type Started, onCleanup, killTree, ignores, isZombie, readProc } from './process.ts';
import type { SpawnOptions } from 'node:child_process';

/** `unshare` arguments for a fresh PID namespace with its own /proc; as non-root, in a user namespace. */
export function unshareArgs(): string[] {
  return [...foreignProcUnshareArgs(), '--mount', '--mount-proc'];
}

/** The same, keeping the parent's /proc: inside, /proc/self names another pid (procfs.ts's 'foreign'). */
export function foreignProcUnshareArgs(): string[] {
  const rootless = getuid?.() !== 0 ? ['--user', '--map-root-user'] : [];
  return [...rootless, '--pid', '--fork'];
}

export interface Pid1 extends Started {
  /** The host's pid of the process that is PID 1 inside. */
  readonly pid: number;
}

/** Starts `command args` as PID 1 and waits until it has exec'd. */
export async function startAsPid1(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<Pid1> {
  const started = start('unshare', [...unshareArgs(), command, ...args], options);
  const unsharePid = started.child.pid;
  if (unsharePid === undefined) throw new Error('unshare did not start');
  onCleanup(() => killTree(unsharePid));
  const pid = await waitFor(`PID 1 under unshare ${unsharePid}`, () => {
    const [inner] = childrenOf(unsharePid);
    if (inner === undefined) return undefined;
    // Wait for the exec: until then the child is still a copy of unshare.
    return exeOf(inner)?.endsWith(command.split('/').pop() ?? command) ? inner : undefined;
  });
  return Object.assign(started, { pid });
}

/**
 * Starts `executable args` as PID 1 with a zombie child it inherits: perl
 * forks a child that exits at once and, never waiting for it, execs the
 * executable, which starts life with a zombie that no SIGCHLD announces.
 * Resolves once the exec is done, with the zombie's pid.
 */
export async function startAsPid1WithZombie(executable: string, args: readonly string[]): Promise<{ pid1: Pid1; zombie: number }> {
  // The sleep gives the test time to see the zombie before the exec, even on a loaded machine.
  const pid1 = await startAsPid1('perl', ['-e', 'fork or exit 0; sleep 3; exec @ARGV or die', executable, ...args]);
  const zombie = await waitFor('the zombie, before the exec', () => childrenOf(pid1.pid).find(isZombie));
  await waitFor(`${executable} to exec`, () => readProc(`/proc/${pid1.pid}/cmdline`)?.startsWith(executable), 5000);
  return { pid1, zombie };
}

/**
 * Runs a shell command inside the PID namespace of `pid` (nsenter): its
 * orphans are re-parented to that namespace's PID 1.
 */
export function inNamespaceArgs(pid: number, script: string): [string, string[]] {
  return ['nsenter', ['--target', String(pid), '--pid', '--mount', '--', 'sh', '-c', script]];
}

/**
 * Pause mode has set up every signal. Node itself catches SIGINT and SIGTERM
 * from its own start-up (to restore the terminal, then die of the signal), so
 * a caught SIGTERM proves nothing; pause mode sets its dispositions in signal
 * order, and SIGRTMAX (64), set to SIG_IGN, comes last.
 */
export function isPauseModeReady(pid: number): boolean {
  return ignores(pid, 64);
}
