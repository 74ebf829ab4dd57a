// What a sandbox's cgroup is charged, and the pod-level parent cgroups the
// bench makes (as a kubelet makes kubepods/…/pod<uid>) to give each sandbox a
// parent of its own and, for the fit, a memory limit. cgroup v1 (the memory and
// pids controllers, as on this hybrid machine) or v2 (the unified tree), chosen
// by what /proc/PID/cgroup names.
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readProc } from '../../../tools/procs.ts';

const ROOT = '/sys/fs/cgroup';

export type Flavour = 'v1' | 'v2';

/** Which files are read, for the results. */
export const READ: Record<Flavour, string> = {
  v1: 'cgroup v1: memory.usage_in_bytes; anon = memory.stat rss, file = memory.stat cache; pids.current of the pids controller',
  v2: 'cgroup v2: memory.current; anon and file from memory.stat; pids.current',
};

/** v1 when the machine mounts a v1 memory controller (hybrid or legacy), else v2. */
export function flavour(): Flavour {
  return existsSync(join(ROOT, 'memory', 'memory.stat')) ? 'v1' : 'v2';
}

function dir(flavourOf: Flavour, controller: 'memory' | 'pids', path: string): string {
  return flavourOf === 'v1' ? join(ROOT, controller, path) : join(ROOT, path);
}

/** The cgroup path of pid for a controller, from /proc/PID/cgroup ("N:memory:/path" or "0::/path"). */
export function cgroupOf(pid: number, controller: 'memory' | 'pids', flavourOf: Flavour): string | undefined {
  for (const line of (readProc(`/proc/${pid}/cgroup`) ?? '').split('\n')) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined) continue;
    if (flavourOf === 'v2' ? controllers === '' : controllers?.split(',').includes(controller)) return path;
  }
  return undefined;
}

function number(file: string): number | undefined {
  const text = readProc(file)?.trim();
  return text === undefined || text === '' ? undefined : Number(text);
}

function statField(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface Charge {
  /** usage_in_bytes (v1) or memory.current (v2), kB. */
  usageKb: number;
  anonKb: number;
  fileKb: number;
}

export function chargeOf(path: string, flavourOf: Flavour): Charge | undefined {
  const base = dir(flavourOf, 'memory', path);
  const stat = readProc(join(base, 'memory.stat')) ?? '';
  const usage = number(join(base, flavourOf === 'v1' ? 'memory.usage_in_bytes' : 'memory.current'));
  const anon = statField(stat, flavourOf === 'v1' ? 'rss' : 'anon');
  const file = statField(stat, flavourOf === 'v1' ? 'cache' : 'file');
  if (usage === undefined || anon === undefined || file === undefined) return undefined;
  return { usageKb: usage / 1024, anonKb: anon / 1024, fileKb: file / 1024 };
}

export function pidsOf(path: string, flavourOf: Flavour): number | undefined {
  return number(join(dir(flavourOf, 'pids', path), 'pids.current'));
}

/** How many times the kernel's OOM killer has killed in this cgroup (v1: memory.oom_control; v2: memory.events). */
export function oomKills(path: string, flavourOf: Flavour): number {
  const base = dir(flavourOf, 'memory', path);
  const text = readProc(join(base, flavourOf === 'v1' ? 'memory.oom_control' : 'memory.events')) ?? '';
  return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? 0);
}

/**
 * Makes the parent cgroup `path` and limits its memory: the limit a kubelet puts
 * on a pod's cgroup, which containerd 1.6 nests the sandbox's cgroup under
 * (cgroup_parent). v1: memory.limit_in_bytes; v2: memory.max.
 */
export function limitMemory(path: string, bytes: number, flavourOf: Flavour): void {
  const base = dir(flavourOf, 'memory', path);
  mkdirSync(base, { recursive: true });
  if (flavourOf === 'v2') {
    // Each level must hand the memory controller down to the next.
    const parts = path.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) writeFileSync(join(ROOT, ...parts.slice(0, i), 'cgroup.subtree_control'), '+memory +pids');
  }
  writeFileSync(join(base, flavourOf === 'v1' ? 'memory.limit_in_bytes' : 'memory.max'), String(bytes));
}

/** Every hierarchy under /sys/fs/cgroup (v1 controllers, named ones, the unified tree). */
function hierarchies(): string[] {
  if (!existsSync(join(ROOT, 'memory'))) return [ROOT];
  return readdirSync(ROOT).map((name) => join(ROOT, name)).filter((path) => statSync(path).isDirectory());
}

function subdirs(path: string): string[] {
  return readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => [join(path, e.name), ...subdirs(join(path, e.name))]);
}

/** Removes the cgroup `path` and everything below it in every hierarchy; returns what could not be removed. */
export function removeCgroups(path: string): string[] {
  const left: string[] = [];
  for (const hierarchy of hierarchies()) {
    const top = join(hierarchy, path);
    if (!existsSync(top)) continue;
    for (const cgroup of [...subdirs(top).reverse(), top]) {
      try {
        rmdirSync(cgroup);
      } catch {
        left.push(cgroup);
      }
    }
  }
  return left;
}

/** The cgroups under `path` in any hierarchy (a sandbox's, once removed, should be gone). */
export function cgroupsUnder(path: string): string[] {
  return hierarchies().flatMap((hierarchy) => (existsSync(join(hierarchy, path)) ? subdirs(join(hierarchy, path)) : []));
}
