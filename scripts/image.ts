// npm run image [-- --tag NAME] [--platform linux/arm64] [other engine build flags...]
//
// Builds the pause image from the Dockerfile with whichever engine is present
// (podman first, then docker) and prints its name and sizes: uncompressed (the
// layers as stored) and compressed (the gzip'd layers a registry would serve).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join, resolve } from 'node:path';
import { imageSize } from './image-size.ts';

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
const found = (['podman', 'docker'] as const).find(has);
if (!found) {
  process.stderr.write('image: neither podman nor docker is installed\n');
  process.exit(1);
}
const engine = found;

// buildah 1.28 (Debian 12's podman) resolves `FROM --platform=$BUILDPLATFORM` to
// the target platform in a cross build unless BUILDPLATFORM is given.
const crossArgs = engine === 'podman' && passThrough.some((arg) => arg.startsWith('--platform'))
  ? ['--build-arg', `BUILDPLATFORM=linux/${arch() === 'arm64' ? 'arm64' : 'amd64'}`]
  : [];
const built = spawnSync(engine, ['build', '--tag', tag, ...crossArgs, ...passThrough, root], { stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;
try {
  const { uncompressed, compressed } = imageSize(engine, tag);
  process.stdout.write(`image: ${tag}\n  uncompressed: ${mib(uncompressed)}\n  compressed:   ${mib(compressed)} (the layers as pushed)\n`);
} catch (error) {
  // The image is built; only its sizes could not be read. One line, not a stack trace.
  process.stderr.write(`image: built ${tag}, but measuring its size failed: ${(error as Error).message.split('\n')[0]}\n`);
  process.exit(1);
}
