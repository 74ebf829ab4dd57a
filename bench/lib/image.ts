// Figure 6: image size, when `npm run image` has made one (the bench builds none).
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { Figure, Row } from './types.ts';

const MB = 1e6;

function localImages(): string[] {
  const listed = spawnSync('podman', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { encoding: 'utf8' });
  return listed.status === 0 ? listed.stdout.split('\n').filter((name) => name && !name.startsWith('<none>')) : [];
}

async function gzippedBytes(file: string): Promise<number> {
  let bytes = 0;
  await pipeline(createReadStream(file), createGzip({ level: 6 }), new Writable({ write(chunk: Buffer, _encoding, done) { bytes += chunk.length; done(); } }));
  return bytes;
}

async function measure(name: string): Promise<Row> {
  const size = Number(execFileSync('podman', ['image', 'inspect', '--format', '{{.Size}}', name], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(tmpdir(), 'pause-bench-image-'));
  try {
    const archive = join(dir, 'image.tar');
    execFileSync('podman', ['save', '--quiet', '--format', 'oci-archive', '-o', archive, name], { stdio: 'ignore' });
    const compressed = await gzippedBytes(archive);
    const one = (value: number) => ({ median: value, min: value, max: value, n: 1 });
    return { program: 'image', label: name, values: { uncompressedMB: one(size / MB), compressedMB: one(compressed / MB) } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function imageFigure(): Promise<Figure> {
  const images = localImages();
  const ours = images.filter((name) => name.includes('pause.ts'));
  const rows: Row[] = [];
  if (ours.length === 0) rows.push({ program: 'image', label: 'localhost/pause.ts', values: { uncompressedMB: null, compressedMB: null }, note: 'not built (`npm run image` makes it)' });
  const k8s = images.filter((name) => name.startsWith('registry.k8s.io/pause'));
  for (const name of [...ours, ...k8s]) {
    try {
      rows.push(await measure(name));
    } catch (error) {
      // Tests make and remove images of their own meanwhile.
      rows.push({ program: 'image', label: name, values: { uncompressedMB: null, compressedMB: null }, note: `not measured: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  if (k8s.length === 0) rows.push({ program: 'image', label: 'registry.k8s.io/pause', values: { uncompressedMB: null, compressedMB: null }, note: 'not on this machine (no registry reachable); about 0.7 MB compressed as published' });
  return {
    id: '6', title: 'Image size',
    method: 'Uncompressed: `podman image inspect` Size. Compressed: the whole `podman save --format oci-archive` tarball through gzip level 6 (close to what a registry stores: gzipped layers plus a few small JSON files).',
    metrics: [{ key: 'uncompressedMB', label: 'uncompressed', unit: 'MB' }, { key: 'compressedMB', label: 'compressed', unit: 'MB' }],
    rows,
  };
}
