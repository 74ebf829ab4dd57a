// npm run image [-- --tag NAME] [--platform linux/arm64] [other engine build flags...]
//
// Builds the pause image from the Dockerfile with whichever engine is present
// (podman first, then docker) and prints its name and sizes: uncompressed (the
// layers as stored) and compressed (the gzip'd layers a registry would serve).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
// --tag is ours; every other argument goes to the engine's build as it is.
let tag = `localhost/pause.ts:${version}`;
const passThrough: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i] ?? '';
  if (arg === '--tag') tag = process.argv[++i] ?? tag;
  else if (arg.startsWith('--tag=')) tag = arg.slice('--tag='.length);
  else passThrough.push(arg);
}

function has(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}
const found = ['podman', 'docker'].find(has);
if (!found) {
  process.stderr.write('image: neither podman nor docker is installed\n');
  process.exit(1);
}
const engine: string = found;

// buildah 1.28 (Debian 12's podman) resolves `FROM --platform=$BUILDPLATFORM` to
// the target platform in a cross build unless BUILDPLATFORM is given.
const crossArgs = engine === 'podman' && passThrough.some((arg) => arg.startsWith('--platform'))
  ? ['--build-arg', `BUILDPLATFORM=linux/${arch() === 'arm64' ? 'arm64' : 'amd64'}`]
  : [];
const built = spawnSync(engine, ['build', '--tag', tag, ...crossArgs, ...passThrough, root], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;
try {
  const uncompressed = Number(execFileSync(engine, ['image', 'inspect', '--format', '{{.Size}}', tag], { encoding: 'utf8' }).trim());
  process.stdout.write(`image: ${tag}\n  uncompressed: ${mib(uncompressed)}\n  compressed:   ${mib(compressedSize())}\n`);
} catch (error) {
  // The image is built; only its sizes could not be read. One line, not a stack trace.
  process.stderr.write(`image: built ${tag}, but measuring its size failed: ${(error as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}

/** The sum of the image's layers gzip'd as a push would, read from `save`'s archive. */
function compressedSize(): number {
  const work = mkdtempSync(join(tmpdir(), 'pause-image-'));
  try {
    if (engine === 'podman') {
      // podman's dir: transport with --compress writes the layers exactly as pushed.
      execFileSync(engine, ['push', '--compress', tag, `dir:${work}/image`], { stdio: 'ignore' });
      const manifest = JSON.parse(readFileSync(join(work, 'image', 'manifest.json'), 'utf8')) as { layers: { size: number }[] };
      return manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
    }
    execFileSync(engine, ['save', '--output', join(work, 'image.tar'), tag]);
    execFileSync('tar', ['-xf', join(work, 'image.tar'), '-C', work]);
    const manifest = JSON.parse(readFileSync(join(work, 'manifest.json'), 'utf8')) as { Layers: string[] }[];
    return (manifest[0]?.Layers ?? []).reduce((sum, layer) => sum + gzipSync(readFileSync(join(work, layer))).length, 0);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
