// Figure 6: image size, when `npm run image` has made one (the bench builds none).
import { spawnSync } from 'node:child_process';
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

export async function imageFigure(): Promise<Figure> {
  const images = localImages();
  const ours = images.filter((name) => name.includes('pause.ts'));
  const rows: Row[] = [];
  if (ours.length === 0) rows.push({ program: 'image', label: 'localhost/pause.ts', values: { uncompressedMB: null, compressedMB: null }, note: 'not built (`npm run image` makes it)' });
  const k8s = images.filter((name) => name.startsWith('registry.k8s.io/pause'));
  for (const name of [...ours, ...k8s]) {
    try {
      rows.push(measure(name));
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
