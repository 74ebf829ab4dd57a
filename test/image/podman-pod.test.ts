// podman's own pods with our image as the infra container, as
// `podman pod create --infra-image` or containers.conf's infra_image make them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { busyboxPsCommand, waitFor } from '../helpers/process.ts';
import { hostPid, orphansLeftAfterStorm, skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock']);

describe.skipIf(skip)('a podman pod whose infra container is our image', () => {
  const name = uniqueName('pod');
  const worker = uniqueName('worker');

  beforeAll(() => {
    ensureImages();
    pod(['pod', 'create', '--name', name, '--infra-image', PAUSE_IMAGE, '--share', 'pid,ipc,net,uts']);
    pod(['run', '--detach', '--pod', name, '--name', worker, BUSYBOX_IMAGE, 'sleep', '3600']);
  }, IMAGES_TIMEOUT_MS);

  afterAll(() => podQuiet(['pod', 'rm', '--force', '--time', '0', name]));

  function infraPid(): number {
    const infra = pod(['pod', 'inspect', '--format', '{{.InfraContainerID}}', name]).trim();
    return hostPid(infra);
  }

  it('runs /pause as PID 1 of the pod', () => {
    expect(busyboxPsCommand(pod(['exec', worker, 'ps']), 1)).toBe('/pause');
  });

  it('reaps 1,000 orphans made in a container of the pod: no zombie left after 1 s', async () => {
    const { before, after } = await orphansLeftAfterStorm(infraPid(), (script) => { pod(['exec', worker, 'sh', '-c', script]); });
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  });

  // Last: it stops the pod. pause exits on SIGTERM at once; a pause that
  // ignored it would hold `pod stop` for the 10 s until podman's SIGKILL.
  it('stops in under 2 s with podman pod stop', async () => {
    const pid = infraPid();
    await waitFor('pause to have set up its signals', () => isPauseModeReady(pid));
    const started = performance.now();
    pod(['pod', 'stop', name]);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(2_000);
  });
});
