// The smallest pod a pause fits: the lowest memory limit on the sandbox's parent
// cgroup (where a kubelet puts a pod's limit; containerd 1.6 nests the sandbox's
// cgroup under cgroup_parent) at which the pause starts, reaps a storm of
// orphans, and exits on SIGTERM, with no OOM kill in the pod. Found by bisection.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { isAlive, namespaceProcesses, statusField, tryKill, waitFor } from '../../../tools/procs.ts';
import { limitMemory, oomKills, removeCgroups } from './cgroups.ts';
import { isUp } from './measure.ts';
import { runOne, sandboxConfig, stopAndRemove, type Sandbox } from './sandboxes.ts';
import { dropCaches, type ImageKey, type Runtime } from './series.ts';

const MiB = 2 ** 20;

export interface Trial {
  limitKb: number;
  ok: boolean;
  /** What failed, when it did. */
  why?: string;
  /** From RunPodSandbox's return to the pause up, and from SIGTERM to its exit (ms), when it got that far. */
  upMs?: number;
  stopMs?: number;
}

export interface FitResult {
  image: ImageKey;
  /** The lowest limit that passed, kB; null when even the highest tried failed. */
  limitKb: number | null;
  /** The highest limit that failed, kB (the bisection's lower bound). */
  failedKb: number | null;
  orphans: number;
  /** Each trial began with the page cache dropped: the pod is charged for the pages its start reads. */
  cold: boolean;
  trials: Trial[];
}

/**
 * A shell, entered into the sandbox's PID namespace from the host (nsenter),
 * that makes `count` orphans: each subshell backgrounds a short sleep and exits,
 * so the sleep is handed to the namespace's PID 1, the pause, to reap. The
 * shell stays in the bench's cgroup: only the pause is charged to the pod.
 */
function storm(pid: number, count: number): string | undefined {
  const script = `i=0; while [ $i -lt ${count} ]; do ( sleep 0.1 & ); i=$((i + 1)); done`;
  const made = spawnSync('nsenter', ['--target', String(pid), '--pid', '--', 'sh', '-c', script], { encoding: 'utf8', timeout: 120_000 });
  return made.status === 0 ? undefined : `the storm could not run: ${made.stderr.trim() || made.error?.message || `status ${made.status}`}`;
}

async function attempt(runtime: Runtime, sandbox: Sandbox, parent: string, orphans: number, times: Partial<Trial>): Promise<string | undefined> {
  const pid = sandbox.pid;
  const begin = performance.now();
  const failed = (what: string) => (oomKills(parent, runtime.flavour) > 0 ? `OOM-killed (${what})` : what);
  if (!await waitFor('up', () => isUp(pid) || !isAlive(pid), 30_000, 20).then(() => isAlive(pid), () => false)) {
    return failed(isAlive(pid) ? `not up after 30 s (state ${statusField(pid, 'State') ?? 'unknown'})` : 'exited before it was up');
  }
  times.upMs = performance.now() - begin;
  const stormFailed = storm(pid, orphans);
  if (stormFailed) return failed(stormFailed);
  const drained = await waitFor('reaped', () => {
    const left = namespaceProcesses(pid);
    return left.length === 1 && left[0]?.state !== 'Z';
  }, 30_000, 50).then(() => true, () => false);
  if (!drained) return failed(isAlive(pid) ? 'orphans left unreaped' : 'died during the storm');
  const stopping = performance.now();
  tryKill(pid, 'SIGTERM');
  if (!await waitFor('exited', () => !isAlive(pid), 30_000, 5).then(() => true, () => false)) return failed('did not exit on SIGTERM');
  times.stopMs = performance.now() - stopping;
  return oomKills(parent, runtime.flavour) > 0 ? 'an OOM kill in the pod' : undefined;
}

async function trial(runtime: Runtime, limitKb: number, orphans: number, name: string, cold: boolean): Promise<Trial> {
  const parent = `${runtime.cgroupRoot}/${runtime.key}-${name}`;
  limitMemory(parent, limitKb * 1024, runtime.flavour);
  let sandbox: Sandbox | undefined;
  const times: Partial<Trial> = {};
  try {
    if (cold) dropCaches();
    sandbox = await runOne(runtime.cri, sandboxConfig(`${runtime.key}-${name}`, `${runtime.containerd.dir}/logs`, parent), parent);
    const why = await attempt(runtime, sandbox, parent, orphans, times);
    return why === undefined ? { limitKb, ok: true, ...times } : { limitKb, ok: false, why, ...times };
  } catch (error) {
    return { limitKb, ok: false, why: ((error as Error).message.split('\n')[0] ?? '').slice(0, 200) };
  } finally {
    if (sandbox) await stopAndRemove(runtime.cri, sandbox.id).catch(() => undefined);
    removeCgroups(parent);
  }
}

/**
 * Bisects between 0 and a limit that passes (64 MiB, doubled until one does,
 * up to 1 GiB) down to `stepKb`. Cold: the page cache is dropped before each
 * trial (root), so the pod pays for every page its start reads, as the first
 * pod on a node does.
 */
export async function fit(runtime: Runtime, orphans: number, stepKb: number, log: (line: string) => void, cold = false): Promise<FitResult> {
  const trials: Trial[] = [];
  const run = async (limitKb: number) => {
    const result = await trial(runtime, limitKb, orphans, `${cold ? 'cold' : 'fit'}${trials.length}`, cold);
    trials.push(result);
    log(`fit ${runtime.key}${cold ? ' cold' : ''}: ${(limitKb / 1024).toFixed(2)} MiB ${result.ok ? 'fits' : `does not: ${result.why}`}`);
    return result.ok;
  };
  let high = 64 * MiB / 1024;
  while (!await run(high)) {
    if (high >= 1024 * MiB / 1024) return { image: runtime.key, limitKb: null, failedKb: high, orphans, cold, trials };
    high *= 2;
  }
  let low = 0;
  while (high - low > stepKb) {
    // Midpoints on a page boundary: the kernel rounds a limit down to whole pages.
    const middle = Math.round((low + high) / 2 / 4) * 4;
    if (await run(middle)) high = middle;
    else low = middle;
  }
  return { image: runtime.key, limitKb: high, failedKb: low === 0 ? null : low, orphans, cold, trials };
}
