// The relocatable bundle (npm run bundle) runs pause mode and init mode in roots
// that lack what the plain executable needs: only busybox-static (no libc at
// all), a musl root, a Debian root without libatomic1 and libstdc++6. It loads
// its own loader and libraries, never the root's, whatever LD_LIBRARY_PATH says,
// and the command still gets that LD_LIBRARY_PATH as it was.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBundle } from '../../scripts/bundle.ts';
import { PAUSE } from '../helpers/paths.ts';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { waitFor } from '../helpers/process.ts';
import { skipUnless } from './helpers/containers.ts';
import { ensureImages, IMAGES_TIMEOUT_MS } from './helpers/images.ts';
import {
  brokenLibraries, BUNDLE_EXE, busyboxRoot, debianRootWithoutLibstdcxx, mappedFiles, MUSL_LOADER, muslRoot, removeRoot, startInRoot,
} from './helpers/roots.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf', 'patchelf', 'busybox', 'unshare', 'chroot'])
  || (existsSync(MUSL_LOADER) ? false : `missing ${MUSL_LOADER} (apt-get install musl)`);

let work = '';
let bundle = '';

beforeAll(() => {
  if (skip) return;
  // On the same file system as the roots, which hard-link it.
  work = mkdtempSync('/var/tmp/pause-bundle-roots-');
  bundle = join(work, 'pause.ts');
  makeBundle(PAUSE, bundle);
});
afterAll(() => { if (work) removeRoot(work); });

/** The libraries pause has mapped, each of which must be the bundle's. */
function expectOnlyBundleLibraries(root: string, pid: number): void {
  const libraries = mappedFiles(pid).filter((path) => /\.so(\.\d+)*$/.test(path));
  expect(libraries).toContain(join(root, 'pause.ts/lib/libc.so.6'));
  expect(libraries).toContain(join(root, 'pause.ts/lib/ld-linux-x86-64.so.2'));
  expect(libraries.filter((path) => !path.startsWith(join(root, 'pause.ts/lib/')))).toEqual([]);
}

const roots = [
  { what: 'only busybox-static (no libc at all)', make: busyboxRoot, slow: false },
  { what: 'musl and busybox-static', make: muslRoot, slow: false },
  { what: 'Debian bookworm without libatomic1 and libstdc++6', make: debianRootWithoutLibstdcxx, slow: true },
] as const;

describe.skipIf(skip).each(roots)('the bundle in a root with $what', ({ make, slow }) => {
  let root = '';
  beforeAll(() => {
    if (slow) ensureImages();
    root = make(mkdtempSync(join(work, 'root-')), bundle);
  }, IMAGES_TIMEOUT_MS);

  it('is a root where the plain executable (dist/pause) cannot start', () => {
    execFileSync('cp', ['--link', PAUSE, join(root, 'plain-pause')]);
    const result = spawnSync('chroot', [root, '/plain-pause', '-v'], { encoding: 'utf8' });
    expect(result.status).toBe(127);
    expect(result.stdout).toBe('');
  });

  it('runs -v without /proc, from a plain chroot', () => {
    expect(execFileSync('chroot', [root, BUNDLE_EXE, '-v'], { encoding: 'utf8' })).toMatch(/^pause\.ts \d/);
  });

  it('runs init mode: the command\'s output and exit status come through', async () => {
    const pause = await startInRoot(root, ['--', 'sh', '-c', 'echo hello from the command; exit 3']);
    const { code } = await pause.exited;
    expect(pause.stdout()).toBe('hello from the command\n');
    expect(code).toBe(3);
  });

  it('runs pause mode with its own libraries only, and exits 0 on SIGTERM', async () => {
    const pause = await startInRoot(root, []);
    await waitFor('pause mode to set up its signals', () => isPauseModeReady(pause.inner), 30_000);
    expectOnlyBundleLibraries(root, pause.inner);
    process.kill(pause.inner, 'SIGTERM');
    expect((await pause.exited).code).toBe(0);
  });
});

describe.skipIf(skip)('the bundle with LD_LIBRARY_PATH set by the user', () => {
  it('ignores broken libraries named like its own, and the command sees LD_LIBRARY_PATH unchanged', async () => {
    const root = busyboxRoot(mkdtempSync(join(work, 'root-')), bundle);
    const broken = brokenLibraries(root, bundle);
    const env = { ...process.env, LD_LIBRARY_PATH: broken };
    const init = await startInRoot(root, ['--', 'sh', '-c', 'echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"'], env);
    expect((await init.exited).code).toBe(0);
    expect(init.stderr()).toBe('');
    expect(init.stdout()).toBe(`LD_LIBRARY_PATH=${broken}\n`);
  });

  it('loads none of the root\'s own libraries when LD_LIBRARY_PATH names their directory', async () => {
    ensureImages();
    const root = debianRootWithoutLibstdcxx(mkdtempSync(join(work, 'root-')), bundle);
    const env = { ...process.env, LD_LIBRARY_PATH: '/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu' };
    const pause = await startInRoot(root, [], env);
    await waitFor('pause mode to set up its signals', () => isPauseModeReady(pause.inner), 30_000);
    expectOnlyBundleLibraries(root, pause.inner);
  }, IMAGES_TIMEOUT_MS);

  it('would load them with DT_RUNPATH instead of DT_RPATH: the reason the bundle uses DT_RPATH', () => {
    const root = busyboxRoot(mkdtempSync(join(work, 'root-')), bundle);
    const broken = brokenLibraries(root, bundle);
    // A copy (not a hard link) to patch: the same executable with DT_RUNPATH.
    rmSync(join(root, BUNDLE_EXE));
    execFileSync('cp', [join(bundle, 'pause'), join(root, BUNDLE_EXE)]);
    execFileSync('patchelf', ['--set-rpath', '/pause.ts/lib', join(root, BUNDLE_EXE)]);
    const result = spawnSync('chroot', [root, BUNDLE_EXE, '-v'], { encoding: 'utf8', env: { ...process.env, LD_LIBRARY_PATH: broken } });
    expect(result.status).toBe(127);
    expect(result.stderr).toContain(`error while loading shared libraries: ${broken}/`);
  });
});
