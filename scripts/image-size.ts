// An image's size, measured one way for `npm run image` and the bench:
// uncompressed as the engine stores it, compressed as a registry would serve
// it (the layers gzip'd as a push makes them, summed; manifests and config
// are a few kB more).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface ImageSize {
  /** Bytes, `image inspect`'s Size. */
  readonly uncompressed: number;
  /** Bytes, the sum of the layers as pushed. */
  readonly compressed: number;
}

export function imageSize(engine: 'podman' | 'docker', tag: string): ImageSize {
  const uncompressed = Number(execFileSync(engine, ['image', 'inspect', '--format', '{{.Size}}', tag], { encoding: 'utf8' }).trim());
  return { uncompressed, compressed: pushedLayerBytes(engine, tag) };
}

function pushedLayerBytes(engine: 'podman' | 'docker', tag: string): number {
  const work = mkdtempSync(join(tmpdir(), 'pause-image-'));
  try {
    if (engine === 'podman') {
      // podman's dir: transport with --compress writes the layers exactly as pushed.
      execFileSync(engine, ['push', '--compress', tag, `dir:${work}/image`], { stdio: 'ignore' });
      const manifest = JSON.parse(readFileSync(join(work, 'image', 'manifest.json'), 'utf8')) as { layers: { size: number }[] };
      return manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    }
    // docker has no such transport: gzip each layer of `save`'s archive as a push would.
    execFileSync(engine, ['save', '--output', join(work, 'image.tar'), tag]);
    execFileSync('tar', ['-xf', join(work, 'image.tar'), '-C', work]);
    const manifest = JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    return (manifest[0]?.Layers ?? []).reduce((sum, layer) => sum + gzipSync(readFileSync(join(work, layer))).length, 0);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
