// Figure 6: image size, when `npm run image` has made one (the bench builds none).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { defaultImageTag } from '../../scripts/image-inputs.ts';
import { imageSize } from '../../scripts/image-size.ts';
import type { Figure, Row } from './types.ts';

const MB = 1e6;

function localImages(): string[] {
  const listed = spawnSync('podman', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' });
  return listed.status === 0 ? listed.stdout.split('\n').filter((name) => name && !name.startsWith('<none>')) : [];
}

function measure(name: string): Row {
  const { uncompressed, compressed } = imageSize('podman', name);
  const one = (value: number) => ({ median: value, min: value, max: value, n: 1 });
  return { program: 'image', label: name, values: { uncompressedMB: one(uncompressed / MB), compressedMB: one(compressed / MB) } };
}

/**
 * The image `npm run image` tags (localhost/pause.ts:VERSION, an index, with
 * its per-architecture images beside it); without one, the newest image the
 * tests built for each architecture (test/image/helpers/build-images.ts: the
 * same Dockerfile), said in a note, rather than every one they left behind.
 */
function ourImages(images: readonly string[]): { names: string[]; note?: string } {
  const tag = defaultImageTag(join(import.meta.dirname, '..', '..'));
  const built = images.filter((name) => name === tag || name.startsWith(`${tag}-`));
  if (built.length > 0) return { names: built };
  const newest = new Map<string, string>(); // `podman image ls` lists the newest first
  for (const name of images) {
    const test = /^localhost\/pause\.ts:test-[0-9a-f]+(?:-([a-z0-9]+))?$/.exec(name);
    const arch = test ? test[1] ?? 'host' : null;
    if (arch !== null && !newest.has(arch)) newest.set(arch, name);
  }
  return { names: [...newest.values()], note: 'built by the tests (`npm run image` not run here)' };
}

export async function imageFigure(): Promise<Figure> {
  const images = localImages();
  const { names: ours, note } = ourImages(images);
  const rows: Row[] = [];
  if (ours.length === 0) rows.push({ program: 'image', label: 'localhost/pause.ts', values: { uncompressedMB: null, compressedMB: null }, note: 'not built (`npm run image` makes it)' });
  const k8s = images.filter((name) => name.startsWith('registry.k8s.io/pause'));
  for (const name of [...ours, ...k8s]) {
    try {
      rows.push({ ...measure(name), ...ours.includes(name) && note ? { note } : {} });
    } catch (error) {
      // Tests make and remove images of their own meanwhile.
      rows.push({ program: 'image', label: name, values: { uncompressedMB: null, compressedMB: null }, note: `not measured: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  if (k8s.length === 0) rows.push({ program: 'image', label: 'registry.k8s.io/pause', values: { uncompressedMB: null, compressedMB: null }, note: 'not on this machine (no registry reachable); about 0.7 MB compressed as published' });
  return {
    id: '6', title: 'Image size',
    method: 'Uncompressed: `podman image inspect` Size. Compressed: the layers as a push makes them (`podman push --compress` to a dir:), summed, as `npm run image` prints it (scripts/image-size.ts); a registry adds a few kB of manifest and config.',
    metrics: [{ key: 'uncompressedMB', label: 'uncompressed', unit: 'MB' }, { key: 'compressedMB', label: 'compressed', unit: 'MB' }],
    rows,
  };
}
