// The arm64 image from the same Dockerfile (cross-built: Node's arm64 binary with
// our script injected, Debian's arm64 libraries) runs under qemu-user, and so
// does its bundle, /pause.ts, in an image without libc.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/paths.ts';
import { onCleanup } from '../helpers/process.ts';
import { CONTAINER_STORM, hostPid, orphansLeftAfterStorm, runDetached, skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE_ARM64 } from './helpers/images.ts';
import { ensureArm64Emulation } from './helpers/qemu.ts';

// Missing packages fail in CI; a machine that cannot register binfmt_misc (an
// unprivileged CI container, say) is told and skipped, in CI too: it cannot run arm64 at all.
const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf', 'qemu-aarch64-static', 'update-binfmts']) || ensureArm64Emulation();
if (skip) process.stderr.write(`arm64 image tests skipped: ${skip}\n`);

/** The arm64 image's /pause.ts, copied out (podman cp) into a directory removed after the test. */
function bundleOutOfImage(): string {
  const name = uniqueName('arm64-copy');
  pod(['create', '--name', name, PAUSE_IMAGE_ARM64]);
  onCleanup(() => podQuiet(['rm', '--force', name]));
  const dir = mkdtempSync(join(ROOT, '.tmp', 'arm64-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  pod(['cp', `${name}:/pause.ts`, join(dir, 'pause.ts')]);
  return dir;
}

describe.skipIf(skip)('the arm64 image under qemu-user', () => {
  beforeAll(() => ensureImages('arm64'), IMAGES_TIMEOUT_MS);

  it('is an arm64 image whose /pause runs an AArch64 executable from its bundle', () => {
    const dir = bundleOutOfImage();
    const header = execFileSync('readelf', ['--file-header', join(dir, 'pause.ts/pause')], { encoding: 'utf8' });
    const interpreter = execFileSync('readelf', ['--program-headers', join(dir, 'pause.ts/pause')], { encoding: 'utf8' });
    expect(pod(['image', 'inspect', '--format', '{{.Architecture}}', PAUSE_IMAGE_ARM64]).trim()).toBe('arm64');
    expect(header).toMatch(/Machine:\s+AArch64/);
    expect(interpreter).toContain('[Requesting program interpreter: /pause.ts/lib/ld-linux-aarch64.so.1]');
  });

  it('runs -v of its bundle mounted read-only into a busybox image that has no libc', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const name = uniqueName('arm64-bundle');
    onCleanup(() => podQuiet(['rm', '--force', name]));
    const bundle = join(bundleOutOfImage(), 'pause.ts');
    expect(pod(['run', '--name', name, '-v', `${bundle}:/pause.ts:ro`, '--entrypoint', '/pause.ts/pause', BUSYBOX_IMAGE, '-v'])).toContain(`pause.ts ${version}`);
  });

  // test/internals.test.ts's first check, for the arm64 build: the internal
  // bindings are there on arm64's Node too, in the shape pause checks.
  it('takes both of Node\'s internal bindings (--verbose), init mode in its bundle', () => {
    const name = uniqueName('arm64-internals');
    onCleanup(() => podQuiet(['rm', '--force', name]));
    const bundle = join(bundleOutOfImage(), 'pause.ts');
    const output = pod(['run', '--name', name, '-v', `${bundle}:/pause.ts:ro`, '--entrypoint', '/bin/sh', BUSYBOX_IMAGE,
      '-c', '/pause.ts/pause --verbose -- true 2>&1']);
    expect(output).toContain("pause: Node's internal bindings ffi=internal signal_wrap=internal\n");
  });

  // The entry stub (scripts/entry-stub.ts) in its AArch64 form, and the
  // environment read from the stack qemu-user lays out: Node starts without
  // the variables that stop it, and the command gets them.
  it("starts its bundle's Node without the environment, which the command gets unchanged", () => {
    const name = uniqueName('arm64-environment');
    onCleanup(() => podQuiet(['rm', '--force', name]));
    const bundle = join(bundleOutOfImage(), 'pause.ts');
    const variables = ['NODE_CHANNEL_FD=abc', 'SIMDUTF_FORCE_IMPLEMENTATION=bogus', 'NODE_REPL_EXTERNAL_MODULE=/x.js', 'NODE_UNIQUE_ID=1'];
    const result = spawnSync('podman', ['run', '--name', name, '-v', `${bundle}:/pause.ts:ro`, ...variables.flatMap((v) => ['-e', v]),
      '--entrypoint', '/pause.ts/pause', BUSYBOX_IMAGE, '--', 'sh', '-c', 'echo "$NODE_CHANNEL_FD $SIMDUTF_FORCE_IMPLEMENTATION $NODE_REPL_EXTERNAL_MODULE $NODE_UNIQUE_ID"; exit 3'],
    { encoding: 'utf8', timeout: 120_000 });
    expect(result).toMatchObject({ status: 3, stdout: 'abc bogus /x.js 1\n', stderr: '' });
  });

  it('runs /pause -v', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const name = uniqueName('arm64-version');
    onCleanup(() => podQuiet(['rm', '--force', name]));
    expect(pod(['run', '--name', name, PAUSE_IMAGE_ARM64, '-v'])).toContain(`pause.ts ${version}`);
  });

  it('reaps 1,000 orphans made in a container sharing its PID namespace', async () => {
    const pause = runDetached(uniqueName('arm64-pause'), [PAUSE_IMAGE_ARM64]);
    const worker = runDetached(uniqueName('arm64-worker'), [`--pid=container:${pause}`, BUSYBOX_IMAGE, 'sleep', '3600']);
    const { before, after } = await orphansLeftAfterStorm(hostPid(pause), (script) => { pod(['exec', worker, 'sh', '-c', script]); });
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);
});
