// A root directory for chroot: the executable with its loader and libraries,
// plus busybox-static as /bin/sh and the applets a test names. No /proc.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyLoadsInto } from '../../scripts/elf.ts';

/**
 * A new root holding `executable` at /NAME, busybox at /bin/busybox linked as
 * /bin/sh and each of `applets`, and /dev/null (a shell opens it for a job
 * started with &). Made by root: mknod needs it.
 */
export function makeRoot(executable: string, name: string, applets: readonly string[]): { root: string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'pause-chroot-'));
  chmodSync(root, 0o755);
  copyFileSync(executable, join(root, name));
  copyLoadsInto(executable, root);
  mkdirSync(join(root, 'bin'));
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  for (const applet of ['sh', ...applets]) symlinkSync('busybox', join(root, 'bin', applet));
  mkdirSync(join(root, 'dev'));
  execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']); // <linux/major.h>: MEM_MAJOR 1, minor 3
  return { root, remove: () => rmSync(root, { recursive: true, force: true }) };
}
