// What the bench reads from /proc about a process, summed over its threads.
// The readers the tests share come from their hook-free module.
import { readProc, taskIds } from '../../tools/procs.ts';

export { childrenOf, exeOf, isZombie } from '../../tools/procs.ts';

function read(path: string): string {
  return readProc(path) ?? '';
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
  return taskIds(pid).reduce((sum, tid) => sum + (field(read(`/proc/${pid}/task/${tid}/status`), 'voluntary_ctxt_switches') ?? 0), 0);
}

/** CPU time of all threads in ns (first field of schedstat), finer than the clock ticks of stat. */
export function cpuNs(pid: number): number {
  return taskIds(pid).reduce((sum, tid) => sum + Number(read(`/proc/${pid}/task/${tid}/schedstat`).split(' ')[0] || 0), 0);
}
