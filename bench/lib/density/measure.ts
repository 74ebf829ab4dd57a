// What one sandbox costs, read from /proc and its cgroup once it is up.
import { blocks, ignores, readProc, statusField } from '../../../tools/procs.ts';
import { memory } from '../proc.ts';
import { cgroupOf, chargeOf, pidsOf, type Flavour } from './cgroups.ts';

/** The per-sandbox figures, all numbers; the keys are the results' metric keys. */
export type Sample = Record<(typeof METRICS)[number]['key'], number>;

export const METRICS = [
  { key: 'rssAnonKb', label: 'pause anon RSS', unit: 'kB' },
  { key: 'pssKb', label: 'pause PSS', unit: 'kB' },
  { key: 'cgUsageKb', label: 'cgroup charged', unit: 'kB' },
  { key: 'cgAnonKb', label: 'cgroup anon', unit: 'kB' },
  { key: 'cgFileKb', label: 'cgroup file', unit: 'kB' },
  { key: 'threads', label: 'threads', unit: '' },
  { key: 'pids', label: 'cgroup pids', unit: '' },
  { key: 'shimRssKb', label: 'shim anon RSS', unit: 'kB' },
] as const;

/** MemAvailable of /proc/meminfo, kB. */
export function memAvailableKb(): number {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(readProc('/proc/meminfo') ?? '')?.[1] ?? Number.NaN);
}

/**
 * The pause has finished starting: it sleeps and has dealt with SIGCHLD, either
 * ignoring it (pause.ts: the kernel reaps) or blocking it for a signalfd
 * (catatonit). Measured before this, a Node process is still growing.
 */
export function isUp(pid: number): boolean {
  const SIGCHLD = 17;
  return statusField(pid, 'State')?.startsWith('S') === true
    && (ignores(pid, SIGCHLD) || blocks(pid, SIGCHLD));
}

/** Reads one sandbox; throws naming what could not be read (the process or cgroup vanished). */
export function sample(pid: number, shimPid: number | undefined, flavour: Flavour): Sample {
  const own = memory(pid);
  const memoryPath = cgroupOf(pid, 'memory', flavour);
  const pidsPath = cgroupOf(pid, 'pids', flavour);
  const charge = memoryPath === undefined ? undefined : chargeOf(memoryPath, flavour);
  const pids = pidsPath === undefined ? undefined : pidsOf(pidsPath, flavour);
  const shim = shimPid === undefined ? undefined : memory(shimPid);
  if (!own || !charge || pids === undefined || !shim) {
    throw new Error(`could not read sandbox process ${pid} (memory cgroup ${memoryPath ?? 'unknown'}, shim ${shimPid ?? 'not found'})`);
  }
  return {
    rssAnonKb: own.rssAnonKb, pssKb: own.pssKb, threads: own.threads,
    cgUsageKb: charge.usageKb, cgAnonKb: charge.anonKb, cgFileKb: charge.fileKb,
    pids, shimRssKb: shim.rssAnonKb,
  };
}

/** The shim serving sandbox `id`: its command line names the id (`-id ID`). */
export function shimOf(id: string, shims: number[]): number | undefined {
  return shims.find((pid) => (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').includes(id));
}
