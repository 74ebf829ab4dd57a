// Processes the bench starts: every one is killed, with its descendants, when
// a measurement ends or the bench itself stops.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { killTree, waitFor as poll } from '../../tools/procs.ts';
import { cpuNs } from './proc.ts';

export { killTree };

const started = new Set<ChildProcess>();

export function launch(argv: readonly string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(argv[0] ?? '', argv.slice(1), { stdio: 'ignore', ...options });
  child.on('error', () => {}); // a failed start shows as a missing pid
  started.add(child);
  child.on('exit', () => started.delete(child));
  return child;
}

/**
 * Stops a process the way a runtime does, with SIGTERM, and waits for it: an
 * init passes SIGTERM on to its child and reaps it, so nothing is left to be
 * re-parented to the machine's PID 1 (which may never reap it). SIGKILL after
 * `graceMs`.
 */
export async function stop(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => { if (child.pid !== undefined) killTree(child.pid); }, graceMs);
  await exited;
  clearTimeout(timer);
}

function killAll(): void {
  for (const child of started) if (child.pid !== undefined) killTree(child.pid);
  started.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/** The tests' poll, with the bench's defaults: a longer deadline (the machine is loaded) and a finer step. */
export function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 15_000, everyMs = 5): Promise<T> {
  return poll(what, check, timeoutMs, everyMs);
}

/**
 * Waits until each of pids has used no CPU for `quietMs` at least once: its
 * start-up is over. Each on its own, since some (tini) wake up every second.
 */
export async function settle(pids: readonly number[], quietMs: number, timeoutMs = 20_000): Promise<void> {
  const quiet = new Set<number>();
  let last = pids.map(cpuNs);
  await sleep(quietMs);
  await waitFor('the processes to go idle', () => {
    const now = pids.map(cpuNs);
    pids.forEach((pid, i) => { if (now[i] === last[i]) quiet.add(pid); });
    last = now;
    return quiet.size === pids.length;
  }, timeoutMs, quietMs);
}
