// The multi-architecture index `npm run image` writes (scripts/image-index.ts),
// made here from the test's amd64 and arm64 images: one OCI archive, an image
// index of exactly two images, each entry's platform right and its config
// agreeing, and each image, taken out of the archive, running /pause -v.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.ts';
import { onCleanup } from '../helpers/process.ts';
import { skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { IMAGES_TIMEOUT_MS, LABEL } from './helpers/images.ts';
import { writeTestIndex, type TestIndex } from './helpers/index-archive.ts';
import { ensureArm64Emulation } from './helpers/qemu.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'skopeo', 'qemu-aarch64-static', 'update-binfmts']) || ensureArm64Emulation();
if (skip) process.stderr.write(`image index tests skipped: ${skip}\n`);

describe.skipIf(skip)('the OCI image index of the amd64 and arm64 images', () => {
  let index: TestIndex;

  beforeAll(() => { index = writeTestIndex(); }, IMAGES_TIMEOUT_MS);
  afterAll(() => index?.remove());

  it('holds exactly two images: linux/amd64 and linux/arm64 variant v8', () => {
    expect(index.index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.entries.map((e) => e.manifest.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    for (const { manifest } of index.entries) expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  });

  it('has each image\'s config say its entry\'s platform, and the configs agree on everything else', () => {
    for (const { manifest, config } of index.entries) {
      expect({ architecture: config.architecture, os: config.os, variant: config.variant }).toEqual({ variant: undefined, ...manifest.platform });
    }
    // The test's own label records each build's inputs, the platform among them; all else must match.
    const [amd64, arm64] = index.entries.map((e) => ({ ...e.config.config, Labels: { ...(e.config.config['Labels'] as object), [LABEL]: undefined } }));
    expect(amd64).toEqual(arm64);
    expect(amd64).toMatchObject({ Entrypoint: ['/pause'], User: '65535:65535' });
  });

  it('runs /pause -v from each image in the archive (arm64 under qemu-user)', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const { manifest, image: entry } of index.entries) {
      const { architecture, variant } = manifest.platform!;
      const image = `localhost/${uniqueName(`index-${architecture}`)}:test`;
      onCleanup(() => podQuiet(['rmi', '--force', image]));
      // skopeo picks the entry of the index for the platform asked for.
      execFileSync('skopeo', ['copy', '--quiet', '--override-arch', architecture, ...(variant ? ['--override-variant', variant] : []), `oci-archive:${index.archive}`, `containers-storage:${image}`]);
      // podman's image id is the digest of the image's config: this entry's.
      expect(`sha256:${pod(['image', 'inspect', '--format', '{{.Id}}', image]).trim()}`).toBe(entry.config.digest);
      const name = uniqueName(`index-run-${architecture}`);
      onCleanup(() => podQuiet(['rm', '--force', name]));
      expect(pod(['run', '--name', name, image, '-v'])).toContain(`pause.ts ${version}`);
    }
  });
});
