// npm run image [-- --tag NAME] [--single-arch] [other engine build flags...]
//
// Builds the pause image from the Dockerfile for linux/amd64 and linux/arm64/v8
// (a cross build: no emulation) with podman, joins them into an OCI image index
// and writes it as one archive, dist/pause.ts-VERSION.oci.tar, with each
// architecture's SBOM beside it; prints the index digest and each entry's
// digest and size. The index stays in podman's store as NAME, to push with
// `podman manifest push --all`.
// --single-arch builds one image for this machine (or --platform) with podman or
// docker, as before, and prints its sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describeIndex, platformBuildArgs, PLATFORMS, platformName, setConfigVariant, writeIndexArchive, type Architecture } from './image-index.ts';
import { imageSize } from './image-size.ts';
import { SBOM_PATH } from './sbom.ts';

const root = resolve(import.meta.dirname, '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
// --tag and --single-arch are ours; every other argument goes to the engine's build as it is.
let tag = `localhost/pause.ts:${version}`;
let singleArch = false;
const passThrough: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i] ?? '';
  if (arg === '--tag') tag = process.argv[++i] ?? tag;
  else if (arg.startsWith('--tag=')) tag = arg.slice('--tag='.length);
  else if (arg === '--single-arch') singleArch = true;
  else passThrough.push(arg);
}

function fail(message: string): never {
  process.stderr.write(`image: ${message}\n`);
  process.exit(1);
}
function has(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}
const found = (['podman', 'docker'] as const).find(has);
if (!found) fail('neither podman nor docker is installed');
const engine = found;
if (!singleArch && engine !== 'podman') fail('the multi-architecture index is made with podman; with docker, build it with `docker buildx build --platform linux/amd64,linux/arm64` (see docs/image.md), or pass --single-arch');

function build(image: string, platformArgs: string[]): void {
  // buildah 1.28 (Debian 12's podman) resolves `FROM --platform=$BUILDPLATFORM` to
  // the target platform in a cross build unless BUILDPLATFORM is given.
  const crossArgs = engine === 'podman' && passThrough.some((arg) => arg.startsWith('--platform'))
    ? ['--build-arg', `BUILDPLATFORM=linux/${arch() === 'arm64' ? 'arm64' : 'amd64'}`]
    : [];
  // The builder's apt-get reaches Debian's mirror as the host does. On a
  // bridge network its DNS goes through the engine's NAT, which does not reach
  // every machine's resolver (seen: "Temporary failure resolving" in podman
  // 4.3's default network while the host resolved the same name).
  const network = ['--network=host'];
  const built = spawnSync(engine, ['build', '--tag', image, ...network, ...platformArgs, ...crossArgs, ...passThrough, root], { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;

if (singleArch) {
  build(tag, []);
  try {
    const { uncompressed, compressed } = imageSize(engine, tag);
    process.stdout.write(`image: ${tag}\n  uncompressed: ${mib(uncompressed)}\n  compressed:   ${mib(compressed)} (the layers as pushed)\n`);
  } catch (error) {
    // The image is built; only its sizes could not be read. One line, not a stack trace.
    fail(`built ${tag}, but measuring its size failed: ${(error as Error).message.split('\n')[0]}`);
  }
  process.exit(0);
}

const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });
const images = {} as Record<Architecture, string>;
for (const platform of PLATFORMS) {
  images[platform.architecture] = `${tag}-${platform.architecture}`;
  build(images[platform.architecture], platformBuildArgs(platform));
  setConfigVariant(images[platform.architecture], platform);
}

/** The SBOM the image carries, copied out beside the archive. */
function copySbom(image: string, target: string): void {
  // podman warns that an arm64 image does not match this machine: it is never run here, only copied from.
  const container = execFileSync('podman', ['create', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  try {
    execFileSync('podman', ['cp', `${container}:/${SBOM_PATH}`, target]);
  } finally {
    spawnSync('podman', ['rm', container], { stdio: 'ignore' });
  }
}

const archive = join(dist, `pause.ts-${version}.oci.tar`);
try {
  const index = writeIndexArchive(images, archive, tag, tag, { keep: true });
  process.stdout.write(describeIndex(relative(root, archive), tag, index));
  for (const platform of PLATFORMS) {
    const sbom = join(dist, `pause.ts-${version}-${platformName(platform).replaceAll('/', '-')}.spdx.json`);
    copySbom(images[platform.architecture], sbom);
    process.stdout.write(`  SBOM ${platformName(platform)}: ${relative(root, sbom)}\n`);
  }
} catch (error) {
  fail(`the images are built, but making the index failed: ${(error as Error).message.split('\n')[0]}`);
}
