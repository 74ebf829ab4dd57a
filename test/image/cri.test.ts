// Our image as containerd's sandbox_image, driven over the CRI exactly as the
// kubelet drives it: RunPodSandbox makes the pause container, the pod's
// containers join its namespaces, StopPodSandbox/RemovePodSandbox end it.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusField, waitFor } from '../helpers/process.ts';
import { commandLine, CONTAINER_STORM, orphansLeftAfterStorm, skipUnless } from './helpers/containers.ts';
import { startContainerd, type Containerd } from '../../tools/cri/containerd.ts';
import { criClient, type Cri, type Message } from '../../tools/cri/client.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'containerd', 'ctr', 'containerd-shim-runc-v2']);

describe.skipIf(skip)('containerd (CRI) with our image as sandbox_image', () => {
  let containerd: Containerd;
  let cri: Cri;
  let sandboxId = '';
  let containerId = '';
  // As the kubelet sends it for a hostNetwork pod with shareProcessNamespace: true.
  const sandboxConfig: Message = {
    metadata: { name: 'pause-ts-cri', uid: randomUUID(), namespace: 'default', attempt: 0 },
    hostname: '', // must be empty with the node's network namespace
    log_directory: '',
    linux: { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } },
  };

  beforeAll(async () => {
    ensureImages();
    containerd = await startContainerd(PAUSE_IMAGE);
    containerd.importImage(PAUSE_IMAGE);
    containerd.importImage(BUSYBOX_IMAGE);
    cri = criClient(containerd.socket);
    sandboxConfig.log_directory = `${containerd.dir}/logs`;
  }, IMAGES_TIMEOUT_MS);

  afterAll(async () => {
    // Idempotent by the CRI's contract: safe whether or not the tests got there.
    if (sandboxId) {
      await cri.call('StopPodSandbox', { pod_sandbox_id: sandboxId }).catch(() => undefined);
      await cri.call('RemovePodSandbox', { pod_sandbox_id: sandboxId }).catch(() => undefined);
    }
    cri?.close();
    await containerd?.stop();
  });

  /** The host pid of the sandbox's process, from containerd's verbose status. */
  async function sandboxPid(): Promise<number> {
    const status = await cri.call<{ info: Record<string, string> }>('PodSandboxStatus', { pod_sandbox_id: sandboxId, verbose: true });
    const info = JSON.parse(status.info['info'] ?? '{}') as { pid?: number };
    if (!info.pid) throw new Error(`no pid in the sandbox's status: ${JSON.stringify(status.info)}`);
    return info.pid;
  }

  it('answers Version on its CRI socket', async () => {
    const version = await cri.call<{ runtime_name: string; runtime_api_version: string }>('Version', { version: 'v1' });
    expect(version.runtime_name).toBe('containerd');
    expect(version.runtime_api_version).toBe('v1');
  });

  it('runs a pod sandbox that becomes READY', async () => {
    const response = await cri.call<{ pod_sandbox_id: string }>('RunPodSandbox', { config: sandboxConfig }).catch((error: Error) => {
      throw new Error(`${error.message}\ncontainerd log:\n${containerd.log()}`);
    });
    sandboxId = response.pod_sandbox_id;
    const status = await cri.call<{ status: { state: string } }>('PodSandboxStatus', { pod_sandbox_id: sandboxId });
    expect(status.status.state).toBe('SANDBOX_READY');
  });

  it('runs /pause as PID 1 of the sandbox, as uid 65535, on a read-only root', async () => {
    const pid = await sandboxPid();
    // RunPodSandbox can return before runc's init has executed the image's entrypoint.
    await waitFor('the sandbox process to leave runc init', () => commandLine(pid) !== 'runc init');
    const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').map((line) => line.split(' ')).find((fields) => fields[4] === '/');
    expect({
      command: commandLine(pid),
      pidInside: statusField(pid, 'NSpid')?.split(/\s+/).at(-1),
      uid: statusField(pid, 'Uid')?.split(/\s+/)[0],
      rootOptions: root?.[5]?.split(',')[0],
    }).toEqual({ command: '/pause', pidInside: '1', uid: '65535', rootOptions: 'ro' });
  });

  it('starts a container in the pod, sharing its PID namespace', async () => {
    const created = await cri.call<{ container_id: string }>('CreateContainer', {
      pod_sandbox_id: sandboxId,
      sandbox_config: sandboxConfig,
      config: {
        metadata: { name: 'worker', attempt: 0 },
        image: { image: BUSYBOX_IMAGE },
        command: ['sleep', '3600'],
        log_path: 'worker.log',
        linux: { security_context: { namespace_options: { network: 'NODE', pid: 'POD', ipc: 'POD' } } },
      },
    });
    containerId = created.container_id;
    await cri.call('StartContainer', { container_id: containerId });
    const ps = await cri.call<{ stdout: Buffer; exit_code: number }>('ExecSync', { container_id: containerId, cmd: ['ps'], timeout: 30 });
    expect(ps.stdout.toString()).toMatch(/^\s*1\s+\S+\s+\S+\s+\/pause\s*$/m);
  });

  it('reaps 1,000 orphans made in the container: no zombie left after 1 s', async () => {
    const { before, after } = await orphansLeftAfterStorm(await sandboxPid(), async (script) => {
      const storm = await cri.call<{ exit_code: number; stderr: Buffer }>('ExecSync', { container_id: containerId, cmd: ['sh', '-c', script], timeout: 120 });
      expect(storm.exit_code, storm.stderr.toString()).toBe(0);
    });
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);

  it('stops the container and the sandbox, and removes the sandbox', async () => {
    const pid = await sandboxPid();
    await cri.call('StopContainer', { container_id: containerId, timeout: 10 });
    await cri.call('StopPodSandbox', { pod_sandbox_id: sandboxId });
    const status = await cri.call<{ status: { state: string } }>('PodSandboxStatus', { pod_sandbox_id: sandboxId });
    expect(status.status.state).toBe('SANDBOX_NOTREADY');
    await waitFor('the pause process to be gone', () => statusField(pid, 'State') === undefined || statusField(pid, 'State')?.startsWith('Z') === true);
    await cri.call('RemovePodSandbox', { pod_sandbox_id: sandboxId });
    await expect(cri.call('PodSandboxStatus', { pod_sandbox_id: sandboxId })).rejects.toThrow(/not found/i);
    sandboxId = '';
  });
});
