// The images the image tests use, built once and cached in podman's store:
// the stand-in builder base, the pause image from the unmodified Dockerfile,
// and a static busybox image. Each carries a label hashing what it was made
// from; a matching image is reused, anything else rebuilt. Several test files
// (and vitest workers) may ask at once: the work runs under flock(1).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../../helpers/paths.ts';

/**
 * Worktrees of this repository on one machine share podman's store, each with
 * its own Dockerfile: the pause images are named per checkout, or one
 * checkout's build replaces another's image under its running tests.
 */
const CHECKOUT = createHash('sha256').update(ROOT).digest('hex').slice(0, 8);
export const PAUSE_IMAGE = `localhost/pause.ts:test-${CHECKOUT}`;
/** The same Dockerfile built for linux/arm64/v8 (cross-built; run under qemu-user). */
export const PAUSE_IMAGE_ARM64 = `localhost/pause.ts:test-${CHECKOUT}-arm64`;
export const BUSYBOX_IMAGE = 'localhost/pause-test-busybox:latest';
export const LABEL = 'io.github.pause-ts.inputs';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  }).sort();
}

/** A hash of every file the Dockerfile's build context holds (see .dockerignore). */
export function contextHash(): string {
  const hash = createHash('sha256');
  const inputs = ['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', 'tsconfig.json'].map((f) => join(ROOT, f));
  for (const path of [...inputs, ...files(join(ROOT, 'scripts')), ...files(join(ROOT, 'src'))]) {
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** For the beforeAll that calls ensureImages(): a first build (debootstrap, npm ci, the SEA) takes minutes. */
export const IMAGES_TIMEOUT_MS = 20 * 60_000;

const ensured = new Set<string>();
/**
 * Makes sure every image exists and is current (with 'arm64', the arm64 pause
 * image too; with 'stand-in', only the builder's stand-in); once per process,
 * serialised across processes.
 */
export function ensureImages(...extra: ('arm64' | 'stand-in')[]): void {
  const key = extra.join(',');
  if (ensured.has(key)) return;
  const lockDir = join(ROOT, '.tmp');
  mkdirSync(lockDir, { recursive: true });
  const result = spawnSync('flock', [join(lockDir, 'image-build.lock'), process.execPath, join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(import.meta.dirname, 'build-images.ts'), ...extra], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: IMAGES_TIMEOUT_MS,
  });
  if (result.status !== 0) throw new Error(`building the test images failed (${result.status ?? result.signal ?? result.error?.message}); see the output above`);
  ensured.add(key);
}
