// The unmodified Dockerfile builds, and the image is what a runtime expects of a
// pause image: /pause as ENTRYPOINT, user 65535:65535, nothing else but the
// bundle /pause runs from and the package records for scanners.
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

  it('holds the bundle /pause.ts (executable, loader, libraries), /pause linked to it, records for scanners, and no shell', () => {
    const files = imageFiles();
    expect(files).toContain('/pause.ts/pause');
    expect(files).toContain('/pause.ts/lib/ld-linux-x86-64.so.2');
    expect(files).not.toContain('/bin/sh');
    // Everything besides /pause, the executable, the loader and the records (test/image/records.test.ts) is a shared library of the bundle.
    const records = (file: string) => file.startsWith(`/${STATUS_DIR}/`) || file === `/${SBOM_PATH}`;
    const others = files.filter((file) => !['/pause', '/pause.ts/pause', '/pause.ts/lib/ld-linux-x86-64.so.2'].includes(file) && !records(file));
    expect(others.length).toBeGreaterThan(0);
    for (const file of others) expect(file).toMatch(/^\/pause\.ts\/lib\/lib[\w+-]+\.so\.\d+$/);
    expect(imageEntries(PAUSE_IMAGE).find((entry) => entry.path === '/pause')).toMatchObject({ mode: expect.stringMatching(/^l/), target: 'pause.ts/pause' });
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
