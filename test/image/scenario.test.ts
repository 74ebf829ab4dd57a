// The classic pod, by hand, as Kubernetes builds it on a runtime: a pause
// container holds the namespaces, and the pod's containers join them with
// --net/--ipc/--pid=container:<pause>.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busyboxPsCommand, waitFor } from '../helpers/process.ts';
import { CONTAINER_STORM, hostPid, orphansLeftAfterStorm, skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock']);

describe.skipIf(skip)('a pod made of a pause container and two busybox containers', () => {
  // One pod for the file: starting it is the slow part; each test looks at one behaviour of it.
  const pause = uniqueName('pause');
  const server = uniqueName('server');
  const client = uniqueName('client');
  const join = [`--net=container:${pause}`, `--ipc=container:${pause}`, `--pid=container:${pause}`];

  beforeAll(() => {
    ensureImages();
    pod(['run', '--detach', '--name', pause, PAUSE_IMAGE]);
    pod(['run', '--detach', '--name', server, ...join, BUSYBOX_IMAGE,
      'sh', '-c', 'mkdir -p /www && echo served-by-busybox > /www/index.html && exec httpd -f -p 80 -h /www']);
    pod(['run', '--detach', '--name', client, ...join, BUSYBOX_IMAGE, 'sleep', '3600']);
  }, IMAGES_TIMEOUT_MS);

  afterAll(() => {
    for (const name of [client, server, pause]) podQuiet(['rm', '--force', '--time', '0', name]);
  });

  it('lets the client reach the server on localhost', async () => {
    const body = await waitFor('httpd to answer', () => {
      const result = spawnSync('podman', ['exec', client, 'wget', '-q', '-O', '-', 'http://localhost:80/'], { encoding: 'utf8' });
      return result.status === 0 ? result.stdout : undefined;
    }, 10_000, 100);
    expect(body).toBe('served-by-busybox\n');
  });

  it.each([['server', server], ['client', client]])('shows /pause as PID 1 in ps in the %s', (_which, name) => {
    expect(busyboxPsCommand(pod(['exec', name, 'ps']), 1)).toBe('/pause');
  });

  it('reaps 1,000 orphans made in a container: no zombie left after 1 s', async () => {
    const { before, after } = await orphansLeftAfterStorm(hostPid(pause), (script) => { pod(['exec', client, 'sh', '-c', script]); });
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);
});
