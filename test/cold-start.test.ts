// Pause mode from a cold page cache in a small pod. The executable's pages
// are charged to the memory cgroup that first reads them: the first pod on a
// node pays for Node's start-up working set, and in a small pod it thrashes
// (docs/benchmarks.md, "The start-up window and small pods"). Here pause runs
// as PID 1 of a new PID namespace inside a memory cgroup of 32 MiB right
// after the page cache was dropped, and of 16 MiB after the warm-up that
// docs/benchmarks.md documents (`vmtouch -t` on the executable from outside
// the pod). Each must become
// ready and exit 0 on SIGTERM, within a deadline taken from a warm start
// measured here. Needs root (drop_caches, cgroups).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flavour, limitMemory, oomKills, removeCgroups } from '../bench/lib/density/cgroups.ts';
import { isPauseModeReady, unshareArgs } from './helpers/pid1.ts';
import { childrenOf, exeOf, isAlive, onCleanup, run, start, tryKill, waitFor } from './helpers/process.ts';
import { PAUSE } from './helpers/paths.ts';
import { missingCommands } from './helpers/requires.ts';
import { coldStartDeadline, type Sized } from './helpers/workload.ts';

const root = process.getuid?.() === 0;
const skip = root ? missingCommands(['vmtouch', 'unshare']) : 'needs root (drop_caches, memory cgroups)';
const MiB = 2 ** 20;
const kind = flavour();
const base = `/pause-test-cold-${process.pid}`;
let made = 0;

/** A fresh memory cgroup of `limit` bytes (none: no limit); its cgroup.procs file. */
function memoryCgroup(limit: number | null): { path: string; procs: string } {
  const path = `${base}/pod${made++}`;
  limitMemory(path, limit ?? 2 ** 62, kind);
  onCleanup(() => void removeCgroups(path));
  return { path, procs: join('/sys/fs/cgroup', kind === 'v1' ? 'memory' : '', path, 'cgroup.procs') };
}

function dropCaches(): void {
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/**
 * Starts pause mode as PID 1 inside the cgroup (the shell joins it, then
 * becomes unshare, whose child is the pause), waits until it is ready, sends
 * SIGTERM and waits for the exit. Returns the ms until ready.
 */
async function startAndStop(procs: string, deadlineMs: number): Promise<{ readyMs: number; code: number | null; stderr: string }> {
  const begin = performance.now();
  const shell = start('sh', ['-c', `echo 0 > ${procs} && exec unshare ${unshareArgs().join(' ')} ${PAUSE}`]);
  const pid = await waitFor('pause to be PID 1 and ready', () => {
    const [inner] = childrenOf(shell.pid);
    return inner !== undefined && exeOf(inner) === PAUSE && isPauseModeReady(inner) ? inner : undefined;
  }, deadlineMs, 5);
  const readyMs = performance.now() - begin;
  tryKill(pid, 'SIGTERM');
  await waitFor('pause to exit on SIGTERM', () => !isAlive(pid), deadlineMs, 5);
  const { code } = await shell.exited;
  return { readyMs, code, stderr: shell.stderr() };
}

describe.skipIf(skip)('pause mode from a cold page cache in a small memory cgroup', () => {
  let deadline: Sized;

  beforeAll(async () => {
    // Warm, no limit, twice (the first fills the cache): the machine's speed at this.
    const unlimited = memoryCgroup(null);
    await startAndStop(unlimited.procs, 60_000);
    const warm = await startAndStop(unlimited.procs, 60_000);
    deadline = coldStartDeadline(warm.readyMs);
    console.log(`cold start: ${deadline.summary}`);
  }, 180_000);
  afterAll(() => void removeCgroups(base));

  it('starts in 32 MiB right after the page cache was dropped, and exits 0 on SIGTERM', async () => {
    const pod = memoryCgroup(32 * MiB);
    dropCaches();
    const { readyMs, code, stderr } = await startAndStop(pod.procs, deadline.deadlineMs);
    console.log(`32 MiB, cold: ready after ${Math.round(readyMs)} ms`);
    expect(stderr).toContain('Shutting down, got signal: Terminated\n');
    expect(code).toBe(0);
    expect(oomKills(pod.path, kind)).toBe(0);
  }, 1_200_000);

  it('starts in 16 MiB after the warm-up (vmtouch -t on the executable, outside the pod), and exits 0 on SIGTERM', async () => {
    dropCaches();
    // The documented warm-up, run from the test's own cgroup: the pages are charged there, not to the pod.
    const warmUp = await run('vmtouch', ['-t', PAUSE]);
    expect(warmUp.code, warmUp.stderr).toBe(0);
    const pod = memoryCgroup(16 * MiB);
    const { readyMs, code, stderr } = await startAndStop(pod.procs, deadline.deadlineMs);
    console.log(`16 MiB, after the warm-up: ready after ${Math.round(readyMs)} ms`);
    expect(stderr).toContain('Shutting down, got signal: Terminated\n');
    expect(code).toBe(0);
    expect(oomKills(pod.path, kind)).toBe(0);
  }, 1_200_000);
});
