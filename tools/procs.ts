// Plain process utilities: poll, kill, read /proc. Shared by the tests and the
// bench, owned by neither, never part of the executable. No vitest in here: the
// bench (`tsx bench/run.ts`) runs outside the test runner, where registering a
// hook would throw; test/helpers/process.ts adds the clean-up.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { parseStat, type ProcStat } from '../src/proc-stat.ts';

/** Signals one process; false if it is gone. Never a group: 0 or a negative pid is refused. */
export function tryKill(pid: number, signal: NodeJS.Signals | number): boolean {
  // kill(0) would reach the caller's own process group (the test runner), kill(-1) every process it may signal.
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILLs a process and everything below it. The whole tree is listed before
 * anything dies, then killed deepest first: no process outlives its parent and
 * is re-parented (to a reaper whose children we do not read) mid-way.
 */
export function killTree(pid: number): void {
  for (const descendant of descendants(pid).reverse()) tryKill(descendant, 'SIGKILL');
  tryKill(pid, 'SIGKILL');
}

/** Polls `check` until it returns a value other than undefined/false, or fails at the deadline. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 10_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * `socket:[INODE]` of every listening TCP socket (IPv4 and IPv6) in the
 * network namespace of `pid` (ours by default), as /proc/PID/net/tcp{,6} list them.
 */
export function listeningTcpInodes(pid: number | 'self' = 'self'): Set<string> {
  const LISTEN = '0A'; // the st column: TCP_LISTEN, in hex
  // readFileSync, not readProc: a namespace that cannot be read must fail the check, not pass it.
  const lines = ['tcp', 'tcp6'].flatMap((file) => readFileSync(`/proc/${pid}/net/${file}`, 'utf8').split('\n').slice(1));
  const fields = lines.map((line) => line.trim().split(/\s+/));
  return new Set(fields.filter((f) => f[3] === LISTEN).map((f) => `socket:[${f[9]}]`));
}

/** Thread ids of pid ([] once it is gone). */
export function taskIds(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** Direct children of pid (zombies included until reaped), from /proc/PID/task/TID/children. */
export function childrenOf(pid: number): number[] {
  return taskIds(pid).flatMap((tid) => (readProc(`/proc/${pid}/task/${tid}/children`) ?? '').split(' ').filter(Boolean).map(Number));
}

export function descendants(pid: number): number[] {
  const found: number[] = [];
  for (const child of childrenOf(pid)) found.push(child, ...descendants(child));
  return found;
}

/** The executable a process runs, or undefined once it is gone. */
export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** One field of /proc/PID/status, e.g. 'State' or 'SigIgn'. */
export function statusField(pid: number, field: string): string | undefined {
  const match = new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readProc(`/proc/${pid}/status`) ?? '');
  return match?.[1];
}

/**
 * True when pid is a zombie. Read from /proc/PID/stat (the letter after the
 * last ')', as comm may hold anything), which the kernel makes more cheaply
 * than status: the bench samples it for many orphans every millisecond.
 */
export function isZombie(pid: number): boolean {
  return statOf(pid)?.state === 'Z';
}

/** /proc/PID/stat of pid, parsed; undefined once it is gone. */
export function statOf(pid: number): ProcStat | undefined {
  const text = readProc(`/proc/${pid}/stat`);
  return (text !== undefined && parseStat(text)) || undefined;
}

export function isAlive(pid: number): boolean {
  const state = statusField(pid, 'State');
  return state !== undefined && !state.startsWith('Z') && !state.startsWith('X');
}

/** Voluntary context switches of every thread of pid; throws once pid is gone. */
export function voluntarySwitches(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const match = /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(readProc(`/proc/${pid}/task/${tid}/status`) ?? '');
    total += Number(match?.[1] ?? 0);
  }
  return total;
}

/** utime + stime of the whole process, in clock ticks. */
export function cpuTicks(pid: number): number {
  const stat = statOf(pid);
  return stat ? stat.utime + stat.stime : Number.NaN;
}

/** True when `name` is a command sh finds (passed as an argument, never parsed as shell). */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' }).status === 0;
}

/** Whether pid has a handler for signo (SigCgt), i.e. is ready to act on it. */
export function catches(pid: number, signo: number): boolean {
  return signalMaskHas(statusField(pid, 'SigCgt'), signo);
}

/** Whether pid has signo set to SIG_IGN (SigIgn). */
export function ignores(pid: number, signo: number): boolean {
  return signalMaskHas(statusField(pid, 'SigIgn'), signo);
}

/** Whether pid blocks signo (SigBlk), e.g. to take it from a signalfd. */
export function blocks(pid: number, signo: number): boolean {
  return signalMaskHas(statusField(pid, 'SigBlk'), signo);
}

function signalMaskHas(hex: string | undefined, signo: number): boolean {
  return hex !== undefined && (BigInt(`0x${hex}`) & (1n << BigInt(signo - 1))) !== 0n;
}

/**
 * The COMMAND column of `pid` in the output of busybox `ps`, or undefined when
 * it is not listed. The header says how many columns come first (busybox
 * builds differ: `PID USER COMMAND`, `PID USER TIME COMMAND`). busybox shows
 * `{COMM} ARGS` when a process's name differs from the base name of its argv[0].
 */
export function busyboxPsCommand(output: string, pid: number): string | undefined {
  const [header = '', ...rows] = output.split('\n');
  const before = header.trim().split(/\s+/).indexOf('COMMAND');
  if (before < 1) throw new Error(`no COMMAND column in the ps header: ${JSON.stringify(header)}`);
  const row = new RegExp(`^\\s*${pid}\\s+${'\\S+\\s+'.repeat(before - 1)}(.*)$`);
  for (const line of rows) {
    const match = row.exec(line);
    if (match) return match[1]?.trimEnd();
  }
  return undefined;
}

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** Host pids of every process in the PID namespace `pid` lives in, with their state letters. */
export function namespaceProcesses(pid: number): { pid: number; state: string }[] {
  const ns = pidNamespace(pid);
  if (!ns) throw new Error(`process ${pid} is gone`);
  const found: { pid: number; state: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const other = Number(entry);
    if (pidNamespace(other) !== ns) continue;
    const state = statusField(other, 'State');
    if (state) found.push({ pid: other, state: state.charAt(0) });
  }
  return found;
}
