// Pod sandboxes over the CRI, as a kubelet asks for them: RunPodSandbox with a
// hostNetwork, shareProcessNamespace pod's config (the CRI test's), each under a
// parent cgroup of its own; then StopPodSandbox and RemovePodSandbox.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Cri, Message } from '../../../tools/cri/client.ts';

export interface Sandbox {
  id: string;
  /** The host pid of the sandbox's process (the pause). */
  pid: number;
  /** How long RunPodSandbox took, ms. */
  runMs: number;
  /** The cgroup_parent it was given. */
  parent: string;
}

/** As the kubelet sends it for a pod with hostNetwork and shareProcessNamespace: true. */
export function sandboxConfig(name: string, logDirectory: string, cgroupParent: string): Message {
  return {
    metadata: { name, uid: randomUUID(), namespace: 'pause-density', attempt: 0 },
    hostname: '', // must be empty with the node's network namespace
    log_directory: logDirectory,
    linux: { cgroup_parent: cgroupParent, security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } },
  };
}

/** The sandbox's host pid, from containerd's verbose status ("info" is a JSON document). */
export async function sandboxPid(cri: Cri, id: string): Promise<number> {
  const status = await cri.call<{ info: Record<string, string> }>('PodSandboxStatus', { pod_sandbox_id: id, verbose: true });
  const pid = (JSON.parse(status.info['info'] ?? '{}') as { pid?: number }).pid;
  if (!pid) throw new Error(`sandbox ${id} has no pid in its status`);
  return pid;
}

export async function isReady(cri: Cri, id: string): Promise<boolean> {
  const status = await cri.call<{ status: { state: string } }>('PodSandboxStatus', { pod_sandbox_id: id });
  return status.status.state === 'SANDBOX_READY';
}

/** One RunPodSandbox, timed. */
export async function runOne(cri: Cri, config: Message, parent: string): Promise<Sandbox> {
  const begin = performance.now();
  const { pod_sandbox_id: id } = await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config });
  const runMs = performance.now() - begin;
  return { id, runMs, parent, pid: await sandboxPid(cri, id) };
}

/** Runs `jobs` with at most `parallel` in flight; results in the order of `jobs`. */
export async function pool<T>(jobs: (() => Promise<T>)[], parallel: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await (jobs[index] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, jobs.length) }, worker));
  return results;
}

/** Stops and removes one sandbox (both idempotent by the CRI's contract), timed. */
export async function stopAndRemove(cri: Cri, id: string): Promise<number> {
  const begin = performance.now();
  await cri.call('StopPodSandbox', { pod_sandbox_id: id });
  await cri.call('RemovePodSandbox', { pod_sandbox_id: id });
  return performance.now() - begin;
}

/** Every sandbox the runtime still lists. */
export async function listed(cri: Cri): Promise<string[]> {
  const list = await cri.call<{ items: { id: string }[] }>('ListPodSandbox', {});
  return list.items.map((item) => item.id);
}
