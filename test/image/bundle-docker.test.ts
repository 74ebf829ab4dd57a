// The README's "Any image" recipes under a real Docker engine (a private
// dockerd): the bundle copied from the pause image with `COPY --from` by
// `docker build` into FROM scratch with a static busybox, and the bundle of
// `npm run bundle` mounted read-only with `--entrypoint` into an image with
// no glibc. The client has no buildx here, so `docker build` is the classic
// builder: it reads these simple multi-stage Dockerfiles, not the project's.
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../../scripts/bundle.ts';
import { PAUSE } from '../helpers/paths.ts';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { onCleanup, waitFor } from '../helpers/process.ts';
import { recipeContext, scratchRecipe } from './helpers/bundle-recipes.ts';
import { skipUnless, uniqueName } from './helpers/containers.ts';
import { DOCKER_TOOLS, useDockerd } from './helpers/dockerd.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf', 'patchelf', 'busybox', ...DOCKER_TOOLS]);
const SCRATCH_IMAGE = `pause-test-bundle-scratch:${process.pid}`;
/** How long a container may take to show what it was asked to, on a slow, shared machine. */
const CONTAINER_MS = 60_000;
let work = '';

describe.skipIf(skip)('the bundle under Docker', () => {
  const engine = useDockerd({}, (dockerd) => {
    ensureImages();
    work = mkdtempSync('/var/tmp/pause-bundle-docker-');
    dockerd.loadFromPodman(PAUSE_IMAGE);
    dockerd.loadFromPodman(BUSYBOX_IMAGE);
    // --pull=false: the pause image is the one just loaded, never a registry's.
    dockerd.docker(['build', '--pull=false', '--force-rm', '--tag', SCRATCH_IMAGE, recipeContext(work, scratchRecipe(PAUSE_IMAGE))], 600_000);
  }, IMAGES_TIMEOUT_MS);

  // Before the daemon stops (after-hooks run last-registered first): its data root goes with it.
  afterAll(() => {
    if (work) {
      engine().tryDocker(['rmi', '--force', SCRATCH_IMAGE, PAUSE_IMAGE, BUSYBOX_IMAGE]);
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('COPY --from into FROM scratch: init mode runs the command, and its output and exit status come through docker run', () => {
    const result = engine().tryDocker(['run', '--rm', SCRATCH_IMAGE]);
    expect(result.stdout).toBe('hello from scratch\n');
    expect(result.status, result.stderr).toBe(3);
  });

  it('COPY --from into FROM scratch: pause mode runs, and docker stop ends it with exit status 0', async () => {
    const docker = engine().docker;
    const name = uniqueName('bundle-docker-pause');
    onCleanup(() => { engine().tryDocker(['rm', '--force', name]); });
    docker(['run', '--detach', '--name', name, '--entrypoint', '/pause.ts/pause', SCRATCH_IMAGE]);
    const pid = Number(docker(['inspect', '--format', '{{.State.Pid}}', name]).trim());
    await waitFor(`pause mode (host pid ${pid}) to set up its signals`, () => isPauseModeReady(pid), CONTAINER_MS);
    docker(['stop', '--time', '30', name]);
    expect(docker(['inspect', '--format', '{{.State.ExitCode}}', name]).trim()).toBe('0');
  });

  it('a read-only volume with --entrypoint /pause.ts/pause in the busybox-static image (no glibc): `exit 3` makes docker run return 3', () => {
    const bundle = join(work, 'pause.ts');
    makeBundle(PAUSE, bundle);
    const result = engine().tryDocker(['run', '--rm', '-v', `${bundle}:/pause.ts:ro`, '--entrypoint', '/pause.ts/pause', BUSYBOX_IMAGE, '--', 'sh', '-c', 'echo hello from the volume; exit 3']);
    expect(result.stdout).toBe('hello from the volume\n');
    expect(result.status, result.stderr).toBe(3);
  });
});
