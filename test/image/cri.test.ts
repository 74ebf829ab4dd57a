// Our image as containerd's sandbox_image, driven over the CRI exactly as the
// kubelet drives it: RunPodSandbox makes the pause container, the pod's
// containers join its namespaces, StopPodSandbox/RemovePodSandbox end it.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxPsCommand, statusField, waitFor } from '../helpers/process.ts';
import { commandLine, CONTAINER_STORM, orphansLeftAfterStorm, skipUnless, untilEntrypoint } from './helpers/containers.ts';
import { startCriNode, type CriNode } from './helpers/cri-node.ts';
import { execScript, sandboxPid, startWorker } from '../../tools/cri/client.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'containerd', 'ctr', 'containerd-shim-runc-v2']);

describe.skipIf(skip)('containerd (CRI) with our image as sandbox_image', () => {
  let node: CriNode;
  let containerId = '';

  beforeAll(async () => {
    ensureImages();
    node = await startCriNode(PAUSE_IMAGE, 'pause-ts-cri', { images: [PAUSE_IMAGE, BUSYBOX_IMAGE] });
  }, IMAGES_TIMEOUT_MS);

  afterAll(() => node?.stop());

  const pauseHostPid = () => sandboxPid(node.cri, node.sandboxId);

  it('answers Version on its CRI socket', async () => {
    const version = await node.cri.call<{ runtime_name: string; runtime_api_version: string }>('Version', { version: 'v1' });
    expect(version.runtime_name).toBe('containerd');
    expect(version.runtime_api_version).toBe('v1');
  });

  it('runs a pod sandbox that becomes READY', async () => {
    expect(await node.runSandbox()).toBe('SANDBOX_READY');
  });

  it('runs /pause as PID 1 of the sandbox, as uid 65535, on a read-only root', async () => {
    const pid = await pauseHostPid();
    await untilEntrypoint(pid);
    const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').map((line) => line.split(' ')).find((fields) => fields[4] === '/');
    expect({
      command: commandLine(pid),
      pidInside: statusField(pid, 'NSpid')?.split(/\s+/).at(-1),
      uid: statusField(pid, 'Uid')?.split(/\s+/)[0],
      rootOptions: root?.[5]?.split(',')[0],
    }).toEqual({ command: '/pause', pidInside: '1', uid: '65535', rootOptions: 'ro' });
  });

  it('starts a container in the pod, sharing its PID namespace', async () => {
    containerId = await startWorker(node.cri, node.sandboxId, node.config, BUSYBOX_IMAGE);
    const ps = await node.cri.call<{ stdout: Buffer; exit_code: number }>('ExecSync', { container_id: containerId, cmd: ['ps'], timeout: 30 });
    expect(busyboxPsCommand(ps.stdout.toString(), 1)).toBe('/pause');
  });

  it('reaps 1,000 orphans made in the container: no zombie left after 1 s', async () => {
    const { before, after } = await orphansLeftAfterStorm(await pauseHostPid(), (script) => execScript(node.cri, containerId, script));
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);

  it('stops the container and the sandbox, and removes the sandbox', async () => {
    const pid = await pauseHostPid();
    await node.cri.call('StopContainer', { container_id: containerId, timeout: 10 });
    await node.cri.call('StopPodSandbox', { pod_sandbox_id: node.sandboxId });
    const status = await node.cri.call<{ status: { state: string } }>('PodSandboxStatus', { pod_sandbox_id: node.sandboxId });
    expect(status.status.state).toBe('SANDBOX_NOTREADY');
    await waitFor('the pause process to be gone', () => statusField(pid, 'State') === undefined || statusField(pid, 'State')?.startsWith('Z') === true);
    await node.cri.call('RemovePodSandbox', { pod_sandbox_id: node.sandboxId });
    await expect(node.cri.call('PodSandboxStatus', { pod_sandbox_id: node.sandboxId })).rejects.toThrow(/not found/i);
    node.sandboxId = '';
  });
});
