// Unmounting what a temporary directory holds before deleting it: for the image
// tests' builds and the private containerd of the CRI test and the density bench.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Unmounts everything mounted below `dir`, deepest first, so that a recursive
 * delete of `dir` never walks into /proc, /sys, an overlay or a shm mount that
 * debootstrap or containerd left behind.
 */
export function unmountUnder(dir: string): void {
  const points = readFileSync('/proc/self/mounts', 'utf8').split('\n')
    .map((line) => (line.split(' ')[1] ?? '').replace(/\\040/g, ' '))
    .filter((point) => point.startsWith(`${dir}/`));
  for (const point of points.sort().reverse()) execFileSync('umount', ['--lazy', point]);
}
