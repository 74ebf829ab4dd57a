// podman's own pods with our image as the infra container, as
// `podman pod create --infra-image` or containers.conf's infra_image make them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { busyboxPsCommand, waitFor } from '../helpers/process.ts';
import { CONTAINER_STORM, hostPid, orphansLeftAfterStorm, skipUnless, uniqueName } from './helpers/containers.ts';
import { containerLog, pod, podQuiet } from './helpers/engine.ts';
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
  }, CONTAINER_STORM.deadlineMs);

  // Last: it stops the pod. pause exits 0 on podman's SIGTERM; a pause that
  // ignored it would be SIGKILLed at the timeout and exit 137. No bound on the
  // time it takes: on a loaded machine podman's own work takes seconds.
  it('stops on podman pod stop: exit 0 on SIGTERM with pause.c\'s message, not killed', async () => {
    const pid = infraPid();
    await waitFor('pause to have set up its signals', () => isPauseModeReady(pid));
    pod(['pod', 'stop', '--time', '60', name]);
    const infra = pod(['pod', 'inspect', '--format', '{{.InfraContainerID}}', name]).trim();
    expect(pod(['inspect', '--format', '{{.State.ExitCode}}', infra]).trim()).toBe('0');
    expect(containerLog(infra)).toContain('Shutting down, got signal: Terminated');
  });
});
