// The cgroups the start-up window runs its programs in: a CPU quota, or a
// memory limit (a small pod). One fresh cgroup per run, as a container gets.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flavour, limitMemory, removeCgroups } from './density/cgroups.ts';

export interface RunCgroup {
  /** The cgroup.procs file the program joins before it is executed. */
  procs: string;
  /** The most memory the cgroup was charged (kB); undefined for a CPU cgroup. */
  peakKb?: () => number;
  remove(): void;
}

let made = 0;
const name = () => `pause-bench-window-${process.pid}-${made++}`;

/** A cgroup v1 cpu controller's, or the unified tree's, with a quota of `percent` of one CPU. */
export function cpuQuota(percent: number): RunCgroup {
  const v1 = '/sys/fs/cgroup/cpu';
  const v2 = !existsSync(join(v1, 'cpu.cfs_quota_us'));
  const dir = join(v2 ? '/sys/fs/cgroup' : v1, name());
  mkdirSync(dir);
  const period = 100_000;
  const quota = Math.round((period * percent) / 100);
  if (v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
  else {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
  }
  return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
}

/** A memory cgroup limited to `mib` MiB (v1 memory.limit_in_bytes, v2 memory.max). */
export function memoryLimit(mib: number): RunCgroup {
  const kind = flavour();
  const path = `/${name()}`;
  limitMemory(path, mib * 2 ** 20, kind);
  const dir = join('/sys/fs/cgroup', kind === 'v1' ? 'memory' : '', path);
  const peak = join(dir, kind === 'v1' ? 'memory.max_usage_in_bytes' : 'memory.peak');
  return {
    procs: join(dir, 'cgroup.procs'),
    peakKb: () => Number(readFileSync(peak, 'utf8').trim()) / 1024,
    remove: () => void removeCgroups(path),
  };
}
