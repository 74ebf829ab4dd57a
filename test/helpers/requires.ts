// The commands a test file needs, and what to do when one is missing: in CI
// the file fails (.ci/apt-packages.txt must install its package); elsewhere
// its tests are skipped, and the run's last line names the file and the
// package (skip-summary.ts).
import { expect } from 'vitest';
import { relative } from 'node:path';
import { hasCommand } from '../../tools/procs.ts';
import { ROOT } from './paths.ts';

/** The Debian package that holds each command the tests check for (all listed in .ci/apt-packages.txt). */
const PACKAGE_OF: Readonly<Record<string, string>> = {
  buildah: 'buildah', busybox: 'busybox-static', catatonit: 'catatonit', containerd: 'containerd', 'containerd-shim-runc-v2': 'containerd',
  chroot: 'coreutils', ctr: 'containerd', debootstrap: 'debootstrap', docker: 'docker.io', 'docker-proxy': 'docker.io',
  'docker-registry': 'docker-registry', dockerd: 'docker.io', 'dumb-init': 'dumb-init', flock: 'util-linux', git: 'git', gpg: 'gnupg', gpgconf: 'gnupg', ip: 'iproute2',
  ldd: 'libc-bin', nsenter: 'util-linux', patchelf: 'patchelf', podman: 'podman', prlimit: 'util-linux', setpriv: 'util-linux',
  'qemu-aarch64-static': 'qemu-user-static', readelf: 'binutils', runc: 'runc', skopeo: 'skopeo',
  tar: 'tar', tini: 'tini', unshare: 'util-linux', 'update-binfmts': 'binfmt-support', vmtouch: 'vmtouch',
};

/** CI=true: a test that cannot run is a fault of the CI set-up, not a skip. */
export const IN_CI = process.env['CI'] === 'true';

/** Marks a skip on the console, for skip-summary.ts to collect. */
export const SKIP_MARK = 'pause-tests skipped: ';

export interface Skip {
  /** The test file, relative to the repository. */
  readonly file: string;
  /** `command (package)` for each missing command. */
  readonly missing: readonly string[];
}

/**
 * Why the tests that need `commands` cannot run here ("missing podman
 * (apt-get install podman)"), or false when every command is on PATH. In CI
 * a missing command throws: there it is a fault of .ci/apt-packages.txt.
 */
export function missingCommands(commands: readonly string[]): string | false {
  const missing = commands.filter((command) => !hasCommand(command)).map((command) => `${command} (${PACKAGE_OF[command] ?? 'unknown package'})`);
  if (missing.length === 0) return false;
  const reason = `missing ${missing.join(', ')}: apt-get install the packages named`;
  if (IN_CI) throw new Error(`${reason}, and add them to .ci/apt-packages.txt`);
  const file = relative(ROOT, expect.getState().testPath ?? 'unknown file');
  console.warn(`${SKIP_MARK}${JSON.stringify({ file, missing } satisfies Skip)}`);
  return reason;
}
