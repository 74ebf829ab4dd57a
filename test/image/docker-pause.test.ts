// The handbook page this project started from (../shared/seed), under a real
// Docker engine, as docs/docker.md tells a user to run it: a pause container
// publishing port 8880, an HTTP server (busybox httpd, standing in for nginx)
// and a second container joined to its network, IPC and PID namespaces.
// One change from the page: Docker >= 17.06 makes IPC private unless the
// container that others join says --ipc=shareable.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { busyboxPsCommand, waitFor } from '../helpers/process.ts';
import { CONTAINER_STORM, orphansLeftAfterStorm, skipUnless } from './helpers/containers.ts';
import { DOCKER_TOOLS, useDockerd, type Dockerd } from './helpers/dockerd.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'busybox', ...DOCKER_TOOLS]);
/** The page's port. */
const PORT = 8880;
const JOIN = ['--net=container:pause', '--ipc=container:pause', '--pid=container:pause'];
const PAGE = 'served-by-busybox-httpd';

/** Why nothing can listen on `port` here, or undefined when it is free. */
function portTaken(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error) => resolve(error.message));
    server.listen(port, () => server.close(() => resolve(undefined)));
  });
}

/** The walkthrough, as docs/docker.md has it (the images are the tests' own). */
async function runWalkthrough(dockerd: Dockerd): Promise<void> {
  const taken = await portTaken(PORT);
  if (taken) throw new Error(`port ${PORT} is not free on this machine (${taken}): the walkthrough publishes the pause container's port 80 there; stop whatever listens on it`);
  dockerd.docker(['run', '-d', '--name', 'pause', '--ipc=shareable', '-p', `${PORT}:80`, PAUSE_IMAGE]);
  dockerd.docker(['run', '-d', '--name', 'httpd', ...JOIN, BUSYBOX_IMAGE,
    'sh', '-c', `mkdir -p /www && echo ${PAGE} > /www/index.html && exec httpd -f -p 80 -h /www`]);
  dockerd.docker(['run', '-d', '--name', 'shell', ...JOIN, BUSYBOX_IMAGE, 'sleep', '3600']);
}

describe.skipIf(skip)("the seed's pause walkthrough under Docker", () => {
  const engine = useDockerd({}, async (dockerd) => {
    ensureImages();
    dockerd.loadFromPodman(PAUSE_IMAGE);
    dockerd.loadFromPodman(BUSYBOX_IMAGE);
    await runWalkthrough(dockerd);
  }, IMAGES_TIMEOUT_MS);

  const docker = (args: readonly string[]) => engine().docker(args);
  const pausePid = () => Number(docker(['inspect', '--format', '{{.State.Pid}}', 'pause']).trim());

  it(`answers http://127.0.0.1:${PORT}/ from the host, through the pause container's port mapping`, async () => {
    const body = await waitFor(`httpd to answer on 127.0.0.1:${PORT} (busybox wget from the host)`, () => {
      const result = spawnSync('busybox', ['wget', '-q', '-O', '-', `http://127.0.0.1:${PORT}/`], { encoding: 'utf8', timeout: 10_000 });
      return result.status === 0 ? result.stdout : undefined;
    }, 60_000, 250);
    expect(body).toBe(`${PAGE}\n`);
  });

  it.each(['httpd', 'shell'])('docker exec %s ps shows PID 1 as /pause, under its own name', (name) => {
    expect(busyboxPsCommand(docker(['exec', name, 'ps']), 1)).toBe('/pause');
  });

  it('reaps 1,000 orphans made in a joined container: no zombie left after 1 s', async () => {
    const { before, after } = await orphansLeftAfterStorm(pausePid(), (script) => { docker(['exec', 'shell', 'sh', '-c', script]); });
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);

  // Last: it ends the walkthrough. pause exits on SIGTERM at once, with 0; one
  // that ignored it would hold `docker stop` for 10 s, until Docker's SIGKILL,
  // and exit with 137. The exit code tells the two apart on a machine of any
  // speed, where a bound on the time would not (2.2 s measured here at load 20).
  it("docker stop pause: pause exits 0 on Docker's SIGTERM, not by its SIGKILL, with pause.c's message", async () => {
    const pid = pausePid();
    await waitFor('pause to have set up its signals (SIGRTMAX ignored)', () => isPauseModeReady(pid));
    docker(['stop', 'pause']);
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', 'pause']).trim()).toBe('0');
    const logs = engine().tryDocker(['logs', 'pause']);
    expect(`${logs.stdout}${logs.stderr}`).toContain('Shutting down, got signal: Terminated');
  });
});
