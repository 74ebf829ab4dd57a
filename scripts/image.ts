// npm run image [-- --tag NAME] [--out FILE] [--locked] [--lock FILE] [--single-arch] [other engine build flags...]
// npm run image:lock        (writes image.lock.json from today's inputs; builds nothing)
//
// Builds the pause image from the Dockerfile for linux/amd64 and linux/arm64/v8
// (a cross build: no emulation) with podman, joins them into an OCI image index
// and writes it as one archive, dist/pause.ts-VERSION.oci.tar (or --out), with each
// architecture's SBOM beside it; prints the index digest and each entry's
// digest and size. The index stays in podman's store as NAME, to push with
// `podman manifest push --all`.
// The build is reproducible (docs/image.md, "Reproducing the image"): the commit
// and its time go in as build arguments, the Debian packages at the exact
// versions apt resolves today. Where those inputs differ from image.lock.json,
// one line says so (the digest will not be the lock's); --locked makes it an error.
// --single-arch builds one image for this machine (or --platform) with podman or
// docker, as before, and prints its sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { arch } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describeIndex, platformBuildArgs, PLATFORMS, platformName, setConfigVariant, writeIndexArchive, type Architecture } from './image-index.ts';
import { defaultImageTag, reproducibleBuildArgs, sourceFacts } from './image-inputs.ts';
import { lockDifferences, LOCK_FILE, pinned, readLock, resolveInputs, writeLock, type ImageInputs } from './image-lock.ts';
import { imageSize } from './image-size.ts';
import { builderImage } from './image-store.ts';
import { normalizeArchive } from './oci-layout.ts';
import { SBOM_PATH } from './sbom.ts';

const root = resolve(import.meta.dirname, '..');
const { version, epoch } = sourceFacts(root);
// --tag, --out, --lock, --locked, --write-lock and --single-arch are ours; every other argument goes to the engine's build as it is.
const options = { tag: defaultImageTag(root), out: undefined as string | undefined, lock: join(root, LOCK_FILE), locked: false, writeLock: false, singleArch: false };
const passThrough: string[] = [];
for (let i = 2; i < process.argv.length; i++) {
  const arg = process.argv[i] ?? '';
  const [name, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
  const value = () => inline ?? process.argv[++i] ?? fail(`${name} needs a value`);
  if (name === '--tag') options.tag = value();
  else if (name === '--out') options.out = resolve(value());
  else if (name === '--lock') options.lock = resolve(value());
  else if (arg === '--locked') options.locked = true;
  else if (arg === '--write-lock') options.writeLock = true;
  else if (arg === '--single-arch') options.singleArch = true;
  else passThrough.push(arg);
}
const { tag } = options;

function fail(message: string): never {
  process.stderr.write(`image: ${message}\n`);
  process.exit(1);
}
const firstLine = (error: unknown) => ((error as { stderr?: string }).stderr?.trim() || (error as Error).message).split('\n')[0];
function has(command: string): boolean {
  return spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;
}
const found = (['podman', 'docker'] as const).find(has);
if (!found) fail('neither podman nor docker is installed');
const engine = found;
if (!options.singleArch && engine !== 'podman') fail('the multi-architecture index is made with podman; with docker, build it with `docker buildx build --platform linux/amd64,linux/arm64` (see docs/image.md), or pass --single-arch');

/** This machine's platform of the index: what --single-arch builds unless given --platform. */
const hostPlatform = PLATFORMS.find((platform) => platform.architecture === (arch() === 'arm64' ? 'arm64' : 'amd64'))!;
const architectures: Architecture[] = options.singleArch ? [hostPlatform.architecture] : PLATFORMS.map((platform) => platform.architecture);

/**
 * Today's inputs, checked against the lock: one line when they differ, an
 * error with --locked. Undefined when apt could not be asked (the build then
 * installs what it finds, unchecked), unless --locked or --write-lock.
 */
function checkedInputs(): ImageInputs | undefined {
  let inputs: ImageInputs;
  try {
    inputs = resolveInputs(engine, root, builderImage(root));
  } catch (error) {
    const line = `asking the builder image's apt for today's package versions failed: ${firstLine(error)}`;
    if (options.locked || options.writeLock) fail(line);
    process.stderr.write(`image: ${line}; building unchecked against the lock\n`);
    return undefined;
  }
  const lockName = relative(process.cwd(), options.lock) || options.lock;
  if (options.writeLock) {
    writeLock(options.lock, inputs);
    process.stdout.write(`image: wrote ${lockName}\n`);
    process.exit(0);
  }
  const lock = readLock(options.lock);
  const differences = lock ? lockDifferences(lock, inputs, architectures) : [`no ${lockName}`];
  if (differences.length > 0) {
    const line = `inputs differ from ${lockName}, so the digest will differ from the one it records: ${differences.join('; ')}`;
    if (options.locked) fail(`--locked: ${line} (npm run image:lock records today's)`);
    process.stderr.write(`image: ${line}\n`);
  }
  return inputs;
}

function build(image: string, platformArgs: string[], packages: Record<string, string> | undefined): void {
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
  const args = ['build', '--tag', image, ...network, ...reproducibleBuildArgs(engine, root), ...(packages ? ['--build-arg', `PACKAGES=${pinned(packages)}`] : []), ...platformArgs, ...crossArgs, ...passThrough, root];
  const built = spawnSync(engine, args, { stdio: 'inherit' });
  if (built.status !== 0) process.exit(built.status ?? 1);
  if (engine === 'podman' && !datedBy(image, epoch) && !passThrough.includes('--no-cache')) {
    // The Dockerfile orders its steps so that this does not happen (see its final stage); should it, correct it.
    process.stderr.write(`image: podman's layer cache gave ${image} steps dated by another build; building it again without the cache\n`);
    passThrough.push('--no-cache');
    build(image, platformArgs, packages);
  }
}

/** Whether every date of the image (its config's `created`, each history entry's) is `epoch`, as --timestamp sets them. */
function datedBy(image: string, seconds: number): boolean {
  const format = '{"created": {{json .Created}}, "history": {{json .History}}}';
  const { created, history } = JSON.parse(execFileSync('podman', ['image', 'inspect', '--format', format, image], { encoding: 'utf8' })) as { created: string; history: { created?: string }[] };
  return [created, ...history.map((entry) => entry.created ?? '')].every((date) => new Date(date).getTime() === seconds * 1000);
}

/** Whether `name` is a manifest list in podman's store (what the index build leaves), rather than an image. */
const isManifestList = (name: string) => engine === 'podman' && spawnSync('podman', ['manifest', 'inspect', name], { stdio: 'ignore' }).status === 0;
const isImage = (name: string) => spawnSync(engine, ['image', 'inspect', name], { stdio: 'ignore' }).status === 0;

/** Makes `tag` free for what this build leaves under it: one build kind after the other, in any order. */
function replacePrevious(kind: 'index' | 'image'): void {
  if (isManifestList(tag)) {
    if (kind === 'image') process.stdout.write(`image: ${tag} was an index (npm run image); replacing it with a single-architecture image\n`);
    execFileSync('podman', ['manifest', 'rm', tag], { stdio: 'ignore' });
  } else if (kind === 'index' && isImage(tag)) {
    process.stdout.write(`image: ${tag} was a single-architecture image (--single-arch); replacing it with the index\n`);
    execFileSync('podman', ['untag', tag, tag], { stdio: 'ignore' });
  }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB (${bytes} bytes)`;

function buildSingleArch(inputs: ImageInputs | undefined): void {
  replacePrevious('image');
  // As the index builds this machine's entry (the same arguments: podman reuses its layers), unless --platform says otherwise.
  const platformArgs = engine === 'podman' && !passThrough.some((arg) => arg.startsWith('--platform')) ? platformBuildArgs(hostPlatform) : [];
  build(tag, platformArgs, inputs?.packages[hostPlatform.architecture]);
  try {
    const { uncompressed, compressed } = imageSize(engine, tag);
    process.stdout.write(`image: ${tag}\n  uncompressed: ${mib(uncompressed)}\n  compressed:   ${mib(compressed)} (the layers as pushed)\n`);
  } catch (error) {
    // The image is built; only its sizes could not be read. One line, not a stack trace.
    fail(`built ${tag}, but measuring its size failed: ${firstLine(error)}`);
  }
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

function buildIndex(inputs: ImageInputs | undefined): void {
  const images = {} as Record<Architecture, string>;
  for (const platform of PLATFORMS) {
    images[platform.architecture] = `${tag}-${platform.architecture}`;
    build(images[platform.architecture], platformBuildArgs(platform), inputs?.packages[platform.architecture]);
    setConfigVariant(images[platform.architecture], platform, epoch);
  }
  const archive = options.out ?? join(root, 'dist', `pause.ts-${version}.oci.tar`);
  mkdirSync(dirname(archive), { recursive: true });
  try {
    replacePrevious('index');
    const index = writeIndexArchive(images, archive, tag, tag, { keep: true });
    normalizeArchive(archive, epoch);
    process.stdout.write(describeIndex(relative(root, archive), tag, index));
    for (const platform of PLATFORMS) {
      const sbom = join(dirname(archive), `pause.ts-${version}-${platformName(platform).replaceAll('/', '-')}.spdx.json`);
      copySbom(images[platform.architecture], sbom);
      process.stdout.write(`  SBOM ${platformName(platform)}: ${relative(root, sbom)}\n`);
    }
  } catch (error) {
    fail(`the images are built, but making the index failed: ${firstLine(error)}`);
  }
}

const inputs = checkedInputs();
if (options.singleArch) buildSingleArch(inputs);
else buildIndex(inputs);
