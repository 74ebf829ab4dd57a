// `npm run image` as a user runs it, in image stores of the test's own: the
// same commit built twice, sharing no layer cache, gives the same bytes for
// both architectures; the image names its commit; the lock's check speaks
// only when an input differs; and single-architecture and index builds follow
// each other in any order. Two full builds, then only runs podman answers
// from its cache: image builds are slow on a small machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitCommit } from '../../scripts/git-commit.ts';
import { compareArchives } from '../../scripts/image-compare.ts';
import { readIndexArchive } from '../../scripts/image-index.ts';
import type { ImageInputs } from '../../scripts/image-lock.ts';
import { builderImage, buildInStore, copyInto, separateStore, type Store } from '../../scripts/image-store.ts';
import { ROOT } from '../helpers/paths.ts';
import { skipUnless } from './helpers/containers.ts';
import { ensureImages } from './helpers/images.ts';

const skip = skipUnless(['podman', 'buildah', 'skopeo', 'runc', 'debootstrap', 'flock', 'git']);

/** Two full cross builds (amd64 and arm64) on a loaded two-core machine. */
const BUILDS_TIMEOUT_MS = 45 * 60_000;
/** A run podman answers from its layer cache, plus apt's resolution of the inputs. */
const CACHED_RUN_MS = 10 * 60_000;

/** `npm run image ARGS` in `store`: its exit status and everything it printed. */
function image(store: Store, archive: string, args: string[]): { status: number | null; output: string } {
  try {
    return { status: 0, output: buildInStore(ROOT, store, archive, args) };
  } catch (error) {
    return { status: 1, output: (error as { output?: string }).output ?? (error as Error).message };
  }
}
const lockLines = (output: string) => output.split('\n').filter((line) => line.includes('inputs differ from'));

describe.skipIf(skip)('npm run image, reproducible', () => {
  let work = '';
  let stores: Store[] = [];
  const archives = ['', ''];
  const outputs = ['', ''];
  let matching = '';

  beforeAll(() => {
    ensureImages('stand-in');
    work = mkdtempSync('/var/tmp/pause-reproducible-');
    stores = [separateStore(join(work, 'a')), separateStore(join(work, 'b'))];
    for (const store of stores) copyInto(store, builderImage(ROOT));
    // A lock of today's inputs, as `npm run image:lock` writes one.
    matching = join(work, 'matching.lock.json');
    const written = image(stores[0]!, join(work, 'unused.tar'), ['--write-lock', '--lock', matching]);
    expect(written.status, written.output).toBe(0);
    for (const [i, store] of stores.entries()) {
      archives[i] = join(work, `build-${i}.oci.tar`);
      const built = image(store, archives[i]!, ['--lock', matching]);
      expect(built.status, built.output).toBe(0);
      outputs[i] = built.output;
    }
  }, BUILDS_TIMEOUT_MS);

  afterAll(() => {
    for (const store of stores) store.remove();
    if (work) execFileSync('rm', ['-rf', work]);
  });

  it('gives byte-identical archives from two stores: index, manifests, configs and layers of both architectures', () => {
    expect(compareArchives(archives[0]!, archives[1]!)).toEqual([]);
    const [a, b] = archives.map((archive) => readIndexArchive(archive));
    expect(a!.entries.map((entry) => entry.platform)).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(b!.index.digest).toBe(a!.index.digest);
    // The archive files themselves, tar headers and all.
    const sha256 = (archive: string) => createHash('sha256').update(readFileSync(archive)).digest('hex');
    expect(sha256(archives[1]!)).toBe(sha256(archives[0]!));
  });

  it('says nothing about the lock when the inputs match it', () => {
    for (const output of outputs) expect(lockLines(output)).toEqual([]);
  });

  it('names the commit: /pause --version from the loaded archive, and the revision label', () => {
    const commit = gitCommit(ROOT);
    expect(commit).not.toBe('');
    const env = stores[0]!.env;
    const loaded = execFileSync('podman', ['load', '--quiet', '--input', archives[0]!], { env, encoding: 'utf8' });
    const reference = /Loaded image(?:\(s\))?: (\S+)/.exec(loaded)?.[1] ?? 'localhost/pause.ts:0.1.0';
    const version = execFileSync('podman', ['run', '--rm', '--network=none', reference, '--version'], { env, encoding: 'utf8' });
    expect(version).toContain(`git.${commit}`);
    const [amd64] = readIndexArchive(archives[0]!).entries;
    expect((amd64!.config.config['Labels'] as Record<string, string>)['org.opencontainers.image.revision']).toBe(commit);
  });

  it('builds --single-arch, then the index, then --single-arch again, each under the same name', () => {
    const [store, archive] = [stores[0]!, join(work, 'again.oci.tar')];
    for (const args of [['--single-arch'], [], ['--single-arch']]) {
      const run = image(store, archive, [...args, '--lock', matching]);
      expect(run.status, `npm run image ${args.join(' ')}:\n${run.output}`).toBe(0);
    }
    // The last one left a plain image under the name, not a manifest list.
    expect(spawnSync('podman', ['manifest', 'inspect', 'localhost/pause.ts:0.1.0'], { env: store.env, stdio: 'ignore' }).status).not.toBe(0);
  }, 3 * CACHED_RUN_MS);

  /** The matching lock with one package at another version: as after Debian's next point release. */
  function differingLock(): string {
    const lock = JSON.parse(readFileSync(matching, 'utf8')) as ImageInputs;
    expect(lock.packages.amd64['binutils']).toBeDefined();
    lock.packages.amd64['binutils'] = '0.0-locked';
    const path = join(work, 'differing.lock.json');
    writeFileSync(path, JSON.stringify(lock));
    return path;
  }

  it('says in one line that the digest will differ when a package version differs from the lock, and builds', () => {
    const run = image(stores[0]!, join(work, 'differing.oci.tar'), ['--single-arch', '--lock', differingLock()]);
    expect(run.status, run.output).toBe(0);
    expect(lockLines(run.output)).toEqual([expect.stringMatching(/^image: inputs differ from .*differing\.lock\.json, so the digest will differ .*: binutils \(amd64\) 0\.0-locked → \S+$/)]);
  }, CACHED_RUN_MS);

  it('fails with --locked when a package version differs from the lock, before building', () => {
    const run = image(stores[0]!, join(work, 'locked.oci.tar'), ['--single-arch', '--locked', '--lock', differingLock()]);
    expect(run.status).toBe(1);
    expect(lockLines(run.output)).toEqual([expect.stringMatching(/^image: --locked: inputs differ .*binutils \(amd64\) 0\.0-locked → /)]);
    expect(run.output).not.toMatch(/STEP \d/);
  }, CACHED_RUN_MS);
});
