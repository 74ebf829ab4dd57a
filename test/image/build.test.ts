// The unmodified Dockerfile builds, and the image is what a runtime expects of a
// pause image: /pause as ENTRYPOINT, user 65535:65535, nothing else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.ts';
import { onCleanup } from '../helpers/process.ts';
import { skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';
import { imageEntries } from './helpers/image-files.ts';
import { SBOM_PATH, STATUS_DIR } from '../../scripts/sbom.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock']);

function config(field: string): unknown {
  return JSON.parse(pod(['image', 'inspect', '--format', `{{json .Config.${field}}}`, PAUSE_IMAGE]));
}

/** Every regular file and symlink in the image. */
const imageFiles = () => imageEntries(PAUSE_IMAGE).map((entry) => entry.path);

describe.skipIf(skip)('the image built from the Dockerfile', () => {
  beforeAll(() => ensureImages(), IMAGES_TIMEOUT_MS);

  it('runs /pause as its entrypoint', () => {
    expect(config('Entrypoint')).toEqual(['/pause']);
  });

  it('runs as user 65535:65535', () => {
    expect(config('User')).toBe('65535:65535');
  });

  it('holds /pause, its loader and shared libraries, their records for scanners, and no shell', () => {
    const files = imageFiles();
    expect(files).toContain('/pause');
    expect(files).toContain('/lib64/ld-linux-x86-64.so.2');
    expect(files).not.toContain('/bin/sh');
    // Everything besides /pause, the loader and the records (test/image/records.test.ts) is a shared library.
    const records = (file: string) => file.startsWith(`/${STATUS_DIR}/`) || file === `/${SBOM_PATH}`;
    const others = files.filter((file) => file !== '/pause' && file !== '/lib64/ld-linux-x86-64.so.2' && !records(file));
    expect(others.length).toBeGreaterThan(0);
    for (const file of others) expect(file).toMatch(/^\/lib\/x86_64-linux-gnu\/lib[\w+-]+\.so\.\d+$/);
  });

  it('carries the OCI labels, with the version of package.json', () => {
    const { version, license } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; license: string };
    const labels = config('Labels') as Record<string, string>;
    expect(labels['org.opencontainers.image.version']).toBe(version);
    expect(labels['org.opencontainers.image.licenses']).toBe(license);
    expect(labels['org.opencontainers.image.source']).toMatch(/^https:\/\//);
    expect(labels['org.opencontainers.image.description']).toBeTruthy();
  });

  it('runs: /pause -v prints the version', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const name = uniqueName('version');
    onCleanup(() => podQuiet(['rm', '--force', name]));
    expect(pod(['run', '--name', name, PAUSE_IMAGE, '-v'])).toContain(version);
  });
});
