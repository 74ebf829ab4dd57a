// Run by ensureImages() under a file lock: builds whatever image is missing or stale.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { platformBuildArgs, PLATFORMS, platformName, setConfigVariant } from '../../../scripts/image-index.ts';
import { reproducibleBuildArgs, sourceFacts } from '../../../scripts/image-inputs.ts';
import { ROOT } from '../../helpers/paths.ts';
import { ensureContainersConf } from './engine.ts';
import { BUSYBOX_IMAGE, LABEL, PAUSE_IMAGE, PAUSE_IMAGE_ARM64, contextHash } from './images.ts';
import { buildStandIn, STAND_IN, STAND_IN_RECIPE } from './stand-in.ts';

/** A field of `podman image inspect`, or undefined when there is no such image. */
function inspect(image: string, format: string): string | undefined {
  const result = spawnSync('podman', ['image', 'inspect', '--format', format, image], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
const labelOf = (image: string, label: string) => inspect(image, `{{index .Labels "${label}"}}`);
const imageId = (image: string) => inspect(image, '{{.Id}}');

/** Builds `image` afresh; the image it replaces, now nameless, is removed unless a container still uses it. */
function rebuild(image: string, build: () => void): void {
  const previous = imageId(image);
  timed(`building ${image}`, build);
  if (previous && previous !== imageId(image)) spawnSync('podman', ['rmi', previous], { stdio: 'ignore' });
}

function timed(what: string, fn: () => void): void {
  const started = Date.now();
  process.stderr.write(`image tests: ${what}...\n`);
  fn();
  process.stderr.write(`image tests: ${what} took ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}

ensureContainersConf();

if (labelOf(STAND_IN, 'io.github.pause-ts.stand-in') !== STAND_IN_RECIPE) {
  rebuild(STAND_IN, () => buildStandIn(STAND_IN_RECIPE));
}
// The reproducibility tests need the builder image only: they build in stores of their own.
if (process.argv.includes('stand-in')) process.exit(0);

/** The pause image from the unmodified Dockerfile, labelled with what it was built from. */
function buildPause(image: string, inputs: string, platformArgs: readonly string[]): void {
  // No layer cache: the builder stage is 1.3 GB the tests never need again.
  // Reproducible as `npm run image` builds it, at this commit.
  // The host's network (scripts/image.ts says why).
  execFileSync('podman', ['build', ...platformArgs, '--network=host', ...reproducibleBuildArgs('podman', ROOT), '--pull=never', '--layers=false', '--force-rm', '--label', `${LABEL}=${inputs}`, '--tag', image, ROOT],
    { stdio: ['ignore', 'inherit', 'inherit'] });
}

// The commit too: the images record it (org.opencontainers.image.revision),
// and the index test wants both entries from one; an amd64 image rebuilt at a
// later commit beside an arm64 one kept from an earlier differed (seen on a
// machine that ran two commits from the same path).
const pauseInputs = `${contextHash()}-${STAND_IN_RECIPE}-${sourceFacts(ROOT).commit}`;
if (labelOf(PAUSE_IMAGE, LABEL) !== pauseInputs) {
  rebuild(PAUSE_IMAGE, () => buildPause(PAUSE_IMAGE, pauseInputs, []));
}

// The arm64 entry of the index, built as `npm run image` builds it (scripts/image-index.ts).
const arm64 = PLATFORMS.find((platform) => platform.architecture === 'arm64')!;
const arm64Inputs = `${pauseInputs}-${platformName(arm64)}`;
if (process.argv.includes('arm64') && labelOf(PAUSE_IMAGE_ARM64, LABEL) !== arm64Inputs) {
  rebuild(PAUSE_IMAGE_ARM64, () => {
    buildPause(PAUSE_IMAGE_ARM64, arm64Inputs, platformBuildArgs(arm64));
    setConfigVariant(PAUSE_IMAGE_ARM64, arm64, sourceFacts(ROOT).epoch);
  });
}

// busybox-static's /bin/busybox, alone in an image, with its applets as symlinks.
const busybox = createHash('sha256').update(readFileSync('/bin/busybox')).digest('hex').slice(0, 16);
if (labelOf(BUSYBOX_IMAGE, LABEL) !== busybox) {
  rebuild(BUSYBOX_IMAGE, () => {
    const work = mkdtempSync('/var/tmp/pause-busybox-');
    try {
      copyFileSync('/bin/busybox', join(work, 'busybox'));
      writeFileSync(join(work, 'Containerfile'), [
        'FROM scratch',
        'COPY busybox /bin/busybox',
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'ENV PATH=/bin',
        `LABEL ${LABEL}=${busybox}`,
        '',
      ].join('\n'));
      execFileSync('podman', ['build', '--pull=never', '--layers=false', '--force-rm', '--tag', BUSYBOX_IMAGE, work], { stdio: ['ignore', 'inherit', 'inherit'] });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
}
