// The index as a cluster gets it: pushed to a registry (Debian's
// docker-registry on 127.0.0.1, plain HTTP), pulled by containerd's CRI
// PullImage as a kubelet pulls its pause image, and run as the sandbox image
// of a pod; on this amd64 machine, containerd must pick the amd64 entry.
// Separately, `ctr images import --all-platforms` takes the whole archive.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { arch } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { statusField, waitFor } from '../helpers/process.ts';
import { commandLine, CONTAINER_STORM, orphansLeftAfterStorm, skipUnless, untilEntrypoint } from './helpers/containers.ts';
import { startCriNode, type CriNode } from './helpers/cri-node.ts';
import { execScript, sandboxPid, startWorker } from '../../tools/cri/client.ts';
import { BUSYBOX_IMAGE, IMAGES_TIMEOUT_MS } from './helpers/images.ts';
import { INDEX_REFERENCE, INDEX_REPOSITORY, writeTestIndex, type TestIndex } from './helpers/index-archive.ts';
import { startRegistry, type Registry } from './helpers/registry.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'containerd', 'ctr', 'containerd-shim-runc-v2', 'docker-registry', 'skopeo', 'qemu-aarch64-static', 'update-binfmts'])
  || (arch() !== 'x64' && 'these tests expect containerd to choose the amd64 entry: run them on an amd64 machine');

/** The ELF machine of a running process's executable (e_machine, at byte 18): 62 x86-64, 183 AArch64. */
function elfMachine(pid: number): number {
  const header = Buffer.alloc(20);
  const fd = openSync(`/proc/${pid}/exe`, 'r');
  try {
    readSync(fd, header, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  return header.readUInt16LE(18);
}
const EM_X86_64 = 62;

describe.skipIf(skip)('the index pushed to a registry, pulled over CRI, run as the sandbox image', () => {
  let index: TestIndex;
  let registry: Registry;
  let node: CriNode;
  let reference = '';
  let containerId = '';

  beforeAll(async () => {
    index = writeTestIndex();
    registry = await startRegistry();
    reference = `${registry.host}/pause.ts:index-test`;
    // The whole index, both images, as `skopeo copy --all` pushes a release.
    execFileSync('skopeo', ['copy', '--quiet', '--all', '--dest-tls-verify=false', `oci-archive:${index.archive}`, `docker://${reference}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    node = await startCriNode(reference, 'pause-ts-registry', { images: [BUSYBOX_IMAGE], plainHttp: [registry.host] });
  }, IMAGES_TIMEOUT_MS);

  afterAll(async () => {
    await node?.stop();
    await registry?.stop();
    index?.remove();
  });

  const amd64 = () => index.entries.find((e) => e.manifest.platform?.architecture === 'amd64')!;

  const pauseHostPid = () => sandboxPid(node.cri, node.sandboxId);

  it('serves the index: the registry answers its digest for the tag', async () => {
    const response = await fetch(`http://${registry.host}/v2/pause.ts/manifests/index-test`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.index.v1+json' } });
    expect(response.headers.get('docker-content-digest')).toBe(index.index.digest);
  });

  it('is pulled by CRI PullImage, which resolves the amd64 image of the index', async () => {
    const pulled = await node.cri.call<{ image_ref: string }>('PullImage', { image: { image: reference } }).catch((error: Error) => {
      throw new Error(`${error.message}\ncontainerd log:\n${node.containerd.log()}\nregistry log:\n${registry.log()}`);
    });
    const status = await node.cri.call<{ image: { id: string; repo_digests: string[] } }>('ImageStatus', { image: { image: reference } });
    expect({ ref: pulled.image_ref, id: status.image.id }).toEqual({ ref: amd64().image.config.digest, id: amd64().image.config.digest });
    expect(status.image.repo_digests).toContain(`${registry.host}/pause.ts@${index.index.digest}`);
  });

  // docs/runtimes.md, "Kubernetes versions": since 1.29 the kubelet spares from
  // its image garbage collection only what the runtime reports pinned, and
  // containerd pins its sandbox_image from 1.7 on. 1.6, here, does not.
  it('is not reported pinned by containerd 1.6, although it is the sandbox_image', async () => {
    const status = await node.cri.call<{ image: { pinned: boolean } }>('ImageStatus', { image: { image: reference } });
    expect(status.image.pinned).toBe(false);
  });

  it('runs a sandbox from the pulled reference: READY, /pause as PID 1, an x86-64 executable', async () => {
    expect(await node.runSandbox()).toBe('SANDBOX_READY');
    const pid = await pauseHostPid();
    await untilEntrypoint(pid);
    expect({ command: commandLine(pid), pidInside: statusField(pid, 'NSpid')?.split(/\s+/).at(-1), machine: elfMachine(pid) })
      .toEqual({ command: '/pause', pidInside: '1', machine: EM_X86_64 });
  });

  it('reaps 1,000 orphans made in a container of the pod', async () => {
    containerId = await startWorker(node.cri, node.sandboxId, node.config, BUSYBOX_IMAGE);
    const { before, after } = await orphansLeftAfterStorm(await pauseHostPid(), (script) => execScript(node.cri, containerId, script));
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);

  it('stops and removes the sandbox', async () => {
    const pid = await pauseHostPid();
    if (containerId) await node.cri.call('StopContainer', { container_id: containerId, timeout: 10 });
    await node.cri.call('StopPodSandbox', { pod_sandbox_id: node.sandboxId });
    await waitFor('the pause process to be gone', () => statusField(pid, 'State') === undefined || statusField(pid, 'State')?.startsWith('Z') === true);
    await node.cri.call('RemovePodSandbox', { pod_sandbox_id: node.sandboxId });
    node.sandboxId = '';
  });

  it('imports the archive with ctr images import --all-platforms: both images, under the index\'s name', () => {
    node.containerd.importArchive(index.archive, INDEX_REPOSITORY, { allPlatforms: true });
    const listing = node.containerd.ctr(['images', 'ls']);
    const line = listing.split('\n').find((l) => l.startsWith(`${INDEX_REFERENCE} `));
    expect(line, listing).toBeDefined();
    // REF TYPE DIGEST SIZE PLATFORMS LABELS
    const fields = line!.split(/\s+/);
    expect(fields[2]).toBe(index.index.digest);
    expect(fields.find((field) => field.startsWith('linux/'))?.split(',').sort()).toEqual(['linux/amd64', 'linux/arm64/v8']);
    // Every image's blobs are in containerd's content store, not only this machine's.
    const content = node.containerd.ctr(['content', 'ls', '--quiet']);
    for (const { manifest, image } of index.entries) {
      for (const blob of [manifest, image.config, ...image.layers]) expect(content).toContain(blob.digest);
    }
  });
});
