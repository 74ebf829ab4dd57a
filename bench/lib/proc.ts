// What the bench reads from /proc about a process, summed over its threads.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function tids(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
}

/** A "Name: 123 kB"-style field of a /proc file, as a number (kB where the file says so). */
function field(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface Memory {
  /** Anonymous resident memory, kB (status RssAnon). */
  rssAnonKb: number;
  /** Proportional set size, kB (smaps_rollup Pss): shared pages divided among their users. */
  pssKb: number;
  threads: number;
}

export function memory(pid: number): Memory | undefined {
  const status = read(`/proc/${pid}/status`);
  const rollup = read(`/proc/${pid}/smaps_rollup`);
  const rssAnonKb = field(status, 'RssAnon');
  const pssKb = field(rollup, 'Pss');
  const threads = field(status, 'Threads');
  if (rssAnonKb === undefined || pssKb === undefined || threads === undefined) return undefined;
  return { rssAnonKb, pssKb, threads };
}

/** Voluntary context switches of all threads: how often the process went to sleep and was woken. */
export function wakeups(pid: number): number {
  return tids(pid).reduce((sum, tid) => sum + (field(read(`/proc/${pid}/task/${tid}/status`), 'voluntary_ctxt_switches') ?? 0), 0);
}

/** CPU time of all threads in ns (first field of schedstat), finer than the clock ticks of stat. */
export function cpuNs(pid: number): number {
  return tids(pid).reduce((sum, tid) => sum + Number(read(`/proc/${pid}/task/${tid}/schedstat`).split(' ')[0] || 0), 0);
}

/** Children of pid (zombies included until reaped), from every thread's children list. */
export function childPids(pid: number): number[] {
  return tids(pid).flatMap((tid) => read(`/proc/${pid}/task/${tid}/children`).trim().split(' ').filter(Boolean).map(Number));
}

/** The file the process runs, or '' once gone. */
export function exe(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return '';
  }
}

/** True when pid is a zombie (state Z in /proc/PID/stat). */
export function isZombie(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
}
