// The two recipes of the README's "Any image" section, run as written under
// podman: the bundle copied from the pause image with `COPY --from` (into
// `FROM scratch` with a static busybox, and into a busybox image), and the
// bundle of `npm run bundle` mounted read-only with `--entrypoint`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../../scripts/bundle.ts';
import { PAUSE } from '../helpers/paths.ts';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { waitFor } from '../helpers/process.ts';
import { recipeContext, scratchRecipe } from './helpers/bundle-recipes.ts';
import { hostPid, runDetached, skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf', 'patchelf', 'busybox']);

const SCRATCH_IMAGE = `localhost/pause-test-bundle-scratch:${process.pid}`;
const BUSYBOX_INIT_IMAGE = `localhost/pause-test-bundle-busybox:${process.pid}`;
let work = '';

/** `podman build --pull=never` of a Dockerfile in a fresh context holding busybox-static. */
function build(tag: string, dockerfile: readonly string[]): void {
  pod(['build', '--pull=never', '--layers=false', '--force-rm', '--tag', tag, recipeContext(work, dockerfile)], 600_000);
}

/** `podman run --rm ARGS`: its exit status and output. */
function runToEnd(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const name = uniqueName('bundle');
  const result = spawnSync('podman', ['run', '--rm', '--name', name, ...args], { encoding: 'utf8', timeout: 120_000 });
  podQuiet(['rm', '--force', name]);
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  if (skip) return;
  ensureImages();
  work = mkdtempSync('/var/tmp/pause-bundle-podman-');
  // Other worktrees on a shared machine rebuild and remove the images of the
  // shared store under these names: the builds take the pause image from an
  // archive saved at once, and busybox from the host, not from the store.
  const source = join(work, 'pause-image.tar');
  pod(['save', '--format', 'oci-archive', '--output', source, PAUSE_IMAGE], 300_000);
  build(SCRATCH_IMAGE, scratchRecipe(`oci-archive:${source}`));
  build(BUSYBOX_INIT_IMAGE, [
    `FROM oci-archive:${source} AS pause`,
    'FROM scratch',
    'COPY busybox /bin/busybox',
    'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
    'ENV PATH=/bin',
    'COPY --from=pause /pause.ts /pause.ts',
    'ENTRYPOINT ["/pause.ts/pause", "--"]',
  ]);
}, IMAGES_TIMEOUT_MS);

afterAll(() => {
  podQuiet(['rmi', SCRATCH_IMAGE, BUSYBOX_INIT_IMAGE]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe.skipIf(skip)('the bundle copied from the pause image with COPY --from', () => {
  it('runs init mode in FROM scratch with a static command: its output and exit status come through', () => {
    const result = runToEnd([SCRATCH_IMAGE]);
    expect(result.stdout).toBe('hello from scratch\n');
    expect(result.status).toBe(3);
  });

  it('runs init mode in a busybox-static image, with the command given to podman run', () => {
    // Its parent is PID 1: pause, the entrypoint. (Its own pid is not 2: Node's threads take pids too.)
    const result = runToEnd([BUSYBOX_INIT_IMAGE, 'sh', '-c', 'echo "parent $PPID"; exit 4']);
    expect(result.stdout).toBe('parent 1\n');
    expect(result.status).toBe(4);
  });

  it('runs pause mode in FROM scratch, and podman stop ends it with exit status 0', async () => {
    const name = runDetached(uniqueName('bundle-pause'), ['--entrypoint', '/pause.ts/pause', SCRATCH_IMAGE]);
    await waitFor('pause mode to set up its signals', () => isPauseModeReady(hostPid(name)), 30_000);
    pod(['stop', '--time', '30', name]);
    expect(pod(['inspect', '--format', '{{.State.ExitCode}}', name]).trim()).toBe('0');
  });
});

describe.skipIf(skip)('the bundle of npm run bundle as a read-only volume', () => {
  it('runs init mode in the busybox image with --entrypoint /pause.ts/pause', () => {
    const bundle = join(work, 'pause.ts');
    makeBundle(PAUSE, bundle);
    const result = runToEnd(['-v', `${bundle}:/pause.ts:ro`, '--entrypoint', '/pause.ts/pause', BUSYBOX_IMAGE, '--', 'sh', '-c', 'echo hello from the volume; exit 3']);
    expect(result.stdout).toBe('hello from the volume\n');
    expect(result.status).toBe(3);
  });
});
