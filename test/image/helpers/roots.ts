// Roots without glibc (or without what Node needs of it) for the bundle
// (scripts/bundle.ts) to run in, each with the bundle at /pause.ts, and pause
// run in them as PID 1 of a new PID namespace with its own /proc.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childrenOf, exeOf, onCleanup, killTree, start, waitFor, type Started } from '../../helpers/process.ts';
import { unshareArgs } from '../../helpers/pid1.ts';
import { podQuiet, pod } from './engine.ts';
import { STAND_IN } from './stand-in.ts';
import { unmountUnder } from '../../../tools/mounts.ts';

export const BUNDLE_EXE = '/pause.ts/pause';
const APPLETS = ['sh', 'echo', 'sleep', 'cat', 'true'];

/** The bundle `bundle` hard-linked into `root` at /pause.ts (same file system: no 117 MB copy). */
function addBundle(root: string, bundle: string): void {
  execFileSync('cp', ['-al', bundle, join(root, 'pause.ts')]);
}

/** busybox-static as /bin/busybox with a few applets, an empty /proc and /tmp: no libc at all. */
export function busyboxRoot(root: string, bundle: string): string {
  for (const dir of ['bin', 'proc', 'tmp']) mkdirSync(join(root, dir), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
  addBundle(root, bundle);
  return root;
}

/** Where Debian's `musl` package puts musl's loader. */
export const MUSL_LOADER = '/lib/ld-musl-x86_64.so.1';

/** A busybox root with musl's loader (which is musl's libc too) where a musl image has it. */
export function muslRoot(root: string, bundle: string): string {
  busyboxRoot(root, bundle);
  mkdirSync(join(root, 'lib'));
  copyFileSync(MUSL_LOADER, join(root, MUSL_LOADER));
  return root;
}

/**
 * A Debian bookworm root (the debootstrap stand-in's files, podman export) with
 * libatomic1 and libstdc++6 purged: the image's glibc is there, but not what
 * Node needs besides it, as in many slim images.
 */
export function debianRootWithoutLibstdcxx(root: string, bundle: string): string {
  mkdirSync(root, { recursive: true });
  const name = `pause-test-bundle-export-${process.pid}`;
  pod(['create', '--name', name, STAND_IN]);
  try {
    execFileSync('sh', ['-c', 'podman export "$1" | tar -x -C "$2"', 'sh', name, root], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 2 ** 24 });
  } finally {
    podQuiet(['rm', '--force', name]);
  }
  // dpkg warns that apt needs libstdc++6; its output shows only if it fails.
  execFileSync('chroot', [root, 'dpkg', '--purge', '--force-depends', 'libatomic1', 'libstdc++6'], { stdio: 'pipe' });
  addBundle(root, bundle);
  return root;
}

/** Removes a root made here, unmounting anything left below it first. */
export function removeRoot(root: string): void {
  unmountUnder(root);
  rmSync(root, { recursive: true, force: true });
}

/** `LD_LIBRARY_PATH` directory in `root` of files named like the bundle's libraries that no loader can load. */
export function brokenLibraries(root: string, bundle: string): string {
  const dir = join(root, 'broken-libs');
  mkdirSync(dir);
  for (const soname of execFileSync('ls', [join(bundle, 'lib')], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    writeFileSync(join(dir, soname), 'not an ELF file\n');
  }
  return '/broken-libs';
}

/** Starts the bundle's pause as PID 1 of a new PID namespace whose root is `root`, with /proc mounted there. */
export async function startInRoot(root: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Started & { inner: number }> {
  if (!existsSync(join(root, 'proc'))) mkdirSync(join(root, 'proc'));
  const started = start('unshare', [...unshareArgs(), `--root=${root}`, BUNDLE_EXE, ...args], { env });
  onCleanup(() => killTree(started.pid));
  const inner = await waitFor(`pause to start in ${root}`, () => {
    const [child] = childrenOf(started.pid);
    return child !== undefined && exeOf(child) === join(root, BUNDLE_EXE) ? child : undefined;
  }, 30_000);
  return Object.assign(started, { inner });
}

/** Files the process maps (its loader and libraries among them), as the host sees their paths. */
export function mappedFiles(pid: number): string[] {
  const paths = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')
    .map((line) => line.split(/\s+/).slice(5).join(' '))
    .filter((path) => path.startsWith('/'));
  return [...new Set(paths)].sort();
}
