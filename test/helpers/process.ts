// Real processes for the tests: start, watch, poll, clean up. The clean-up is
// an afterEach hook, so only code that runs inside vitest may import this; the
// plain utilities live in tools/procs.ts (no vitest) and are re-exported here.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { afterEach, inject } from 'vitest';
import { killTree, waitFor as poll } from '../../tools/procs.ts';

export * from '../../tools/procs.ts';

/**
 * procs.ts's waitFor, whose time-out also says how fast this machine makes
 * processes (measured at the start of the run): a deadline missed on a slow
 * machine reads differently from one missed on a fast one.
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs?: number, everyMs?: number): Promise<T> {
  try {
    return await poll(what, check, timeoutMs, everyMs);
  } catch (error) {
    const rate = inject('orphanRate');
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message} (this machine makes ${Math.round(rate.perSecond)} orphans/s)`);
  }
}

export interface Started {
  readonly child: ChildProcess;
  /** The process id: start() throws when the process could not be made. */
  readonly pid: number;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
const cleanups: (() => void | Promise<void>)[] = [];

/** Registers clean-up to run after the current test, last registered first. */
export function onCleanup(fn: () => void | Promise<void>): void {
  cleanups.push(fn);
}

afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      killTree(child.pid);
    }
  }
  running.clear();
});

export function start(command: string, args: readonly string[], options: SpawnOptions = {}): Started {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const { pid } = child;
  if (pid === undefined) {
    // A pid of 0 handed to process.kill would signal the test runner's own
    // process group: no Started without a real pid.
    child.on('error', () => {});
    throw new Error(`cannot start ${command}`);
  }
  running.add(child);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, pid, stdout: () => out, stderr: () => err, exited };
}

/** Runs to completion. */
export async function run(command: string, args: readonly string[], options: SpawnOptions = {}) {
  const started = start(command, args, options);
  const { code, signal } = await started.exited;
  return { code, signal, stdout: started.stdout(), stderr: started.stderr() };
}
