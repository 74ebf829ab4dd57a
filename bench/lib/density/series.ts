// One series: N sandboxes of one image run, measured, stopped and removed,
// then a check that nothing of them is left. And the cold start: one sandbox
// right after the page cache was dropped.
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import type { Containerd } from '../../../tools/cri/containerd.ts';
import type { Cri } from '../../../tools/cri/client.ts';
import { isAlive, waitFor } from '../../../tools/procs.ts';
import { cgroupsUnder, removeCgroups, type Flavour } from './cgroups.ts';
import { isUp, memAvailableKb, sample, shimOf, type Sample } from './measure.ts';
import { isReady, listed, pool, runOne, sandboxConfig, stopAndRemove, type Sandbox } from './sandboxes.ts';

export type ImageKey = 'pause' | 'catatonit';

/** One image under test, with the private containerd whose sandbox_image it is. */
export interface Runtime {
  key: ImageKey;
  image: string;
  containerd: Containerd;
  cri: Cri;
  flavour: Flavour;
  /** The bench's own parent cgroup; every sandbox's cgroup_parent is below it. */
  cgroupRoot: string;
}

export interface SeriesResult {
  image: ImageKey;
  n: number;
  parallel: number;
  /** RunPodSandbox latency of each sandbox, ms. */
  runMs: number[];
  /** From the first RunPodSandbox to all READY by PodSandboxStatus, ms. */
  wallReadyMs: number;
  /** From the first RunPodSandbox to every pause up (sleeping, SIGCHLD dealt with), ms. */
  wallUpMs: number;
  samples: Sample[];
  memAvailableBeforeKb: number;
  memAvailableAfterKb: number;
  stopRemoveMs: number[];
  stopRemoveWallMs: number;
  /** What was found left after removal; empty when clean. */
  leftovers: string[];
}

/** Whatever of these sandboxes remains: listed sandboxes, shims, processes, mounts, cgroups. */
export async function leftovers(runtime: Runtime, sandboxes: readonly Sandbox[], parents: readonly string[]): Promise<string[]> {
  const ids = new Set(sandboxes.map((s) => s.id));
  const found: string[] = [];
  for (const id of await listed(runtime.cri)) if (ids.has(id)) found.push(`sandbox ${id} still listed`);
  for (const id of ids) if (shimOf(id, runtime.containerd.shims()) !== undefined) found.push(`a shim for ${id}`);
  for (const sandbox of sandboxes) if (isAlive(sandbox.pid)) found.push(`process ${sandbox.pid} of ${sandbox.id}`);
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n');
  for (const id of ids) for (const line of mounts.filter((m) => m.includes(id))) found.push(`mount ${line.split(' ')[1]}`);
  for (const parent of parents) found.push(...cgroupsUnder(parent).map((path) => `cgroup ${path}`));
  return found;
}

async function measureAll(runtime: Runtime, sandboxes: readonly Sandbox[]): Promise<Sample[]> {
  const shims = runtime.containerd.shims();
  return sandboxes.map((s) => sample(s.pid, shimOf(s.id, shims), runtime.flavour));
}

async function removeAll(runtime: Runtime, sandboxes: readonly Sandbox[], parallel: number): Promise<{ each: number[]; wallMs: number }> {
  const begin = performance.now();
  const each = await pool(sandboxes.map((s) => () => stopAndRemove(runtime.cri, s.id)), parallel);
  return { each, wallMs: performance.now() - begin };
}

export async function series(runtime: Runtime, n: number, parallel: number, upTimeoutMs: number): Promise<SeriesResult> {
  const parents = Array.from({ length: n }, (_, i) => `${runtime.cgroupRoot}/${runtime.key}-n${n}-pod${i}`);
  const before = memAvailableKb();
  const begin = performance.now();
  let sandboxes: Sandbox[] = [];
  try {
    sandboxes = await pool(parents.map((parent, i) => () => runOne(runtime.cri, sandboxConfig(`${runtime.key}-${n}-${i}`, `${runtime.containerd.dir}/logs`, parent), parent)), parallel);
    for (const s of sandboxes) if (!await isReady(runtime.cri, s.id)) throw new Error(`sandbox ${s.id} is not READY after RunPodSandbox returned`);
    const wallReadyMs = performance.now() - begin;
    await waitFor(`${n} ${runtime.key} sandboxes' pause processes to be up`, () => sandboxes.every((s) => isUp(s.pid)), upTimeoutMs, 20);
    const wallUpMs = performance.now() - begin;
    const samples = await measureAll(runtime, sandboxes);
    const after = memAvailableKb();
    const removed = await removeAll(runtime, sandboxes, parallel);
    const left = await leftovers(runtime, sandboxes, parents);
    for (const parent of parents) left.push(...removeCgroups(parent).map((path) => `cgroup ${path} (not removable)`));
    return {
      image: runtime.key, n, parallel, runMs: sandboxes.map((s) => s.runMs), wallReadyMs, wallUpMs, samples,
      memAvailableBeforeKb: before, memAvailableAfterKb: after, stopRemoveMs: removed.each, stopRemoveWallMs: removed.wallMs, leftovers: left,
    };
  } catch (error) {
    // Leave nothing behind on the way out, then report what failed.
    await removeAll(runtime, sandboxes, parallel).catch(() => undefined);
    for (const parent of parents) removeCgroups(parent);
    throw error;
  }
}

export interface ColdResult {
  image: ImageKey;
  /** Whether the page cache could be dropped (root only). */
  dropped: boolean;
  runMs: number;
  upMs: number;
  sample: Sample;
  leftovers: string[];
}

/** Writes back dirty pages, then drops the page cache, dentries and inodes: the next start reads its image from disk. */
export function dropCaches(): boolean {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

export async function cold(runtime: Runtime, upTimeoutMs: number): Promise<ColdResult> {
  const parent = `${runtime.cgroupRoot}/${runtime.key}-cold`;
  const dropped = dropCaches();
  const begin = performance.now();
  const sandbox = await runOne(runtime.cri, sandboxConfig(`${runtime.key}-cold`, `${runtime.containerd.dir}/logs`, parent), parent);
  try {
    await waitFor(`the cold ${runtime.key} sandbox's pause to be up`, () => isUp(sandbox.pid), upTimeoutMs, 5);
    const upMs = performance.now() - begin;
    const [measured] = await measureAll(runtime, [sandbox]);
    await stopAndRemove(runtime.cri, sandbox.id);
    const left = await leftovers(runtime, [sandbox], [parent]);
    left.push(...removeCgroups(parent).map((path) => `cgroup ${path} (not removable)`));
    return { image: runtime.key, dropped, runMs: sandbox.runMs, upMs, sample: measured as Sample, leftovers: left };
  } finally {
    await stopAndRemove(runtime.cri, sandbox.id).catch(() => undefined);
    removeCgroups(parent);
  }
}
