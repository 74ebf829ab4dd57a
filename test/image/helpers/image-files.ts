// What an image holds, read from `podman export` of a container never started.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers/paths.ts';
import { uniqueName } from './containers.ts';
import { pod, podQuiet } from './engine.ts';

export interface ImageEntry {
  /** Absolute path in the image. */
  path: string;
  /** tar's mode string, e.g. -rw-r--r-- (the first character: - file, l symlink, d directory). */
  mode: string;
  /** A symlink's target, as stored. */
  target?: string;
}

/** `podman export IMAGE | tar ARGS` through a container made for it and removed. */
function exported(image: string, tarArgs: string[]): string {
  const name = uniqueName('export');
  pod(['create', '--name', name, image]);
  try {
    return execFileSync('sh', ['-c', 'name="$1"; shift; podman export "$name" | tar "$@"', 'sh', name, ...tarArgs], { encoding: 'utf8', maxBuffer: 2 ** 24 });
  } finally {
    podQuiet(['rm', '--force', name]);
  }
}

/** Every entry of the image's root but directories, sorted by path. */
export function imageEntries(image: string): ImageEntry[] {
  return exported(image, ['-tv']).split('\n').filter((line) => /^[-l]/.test(line))
    .map((line) => {
      const fields = line.split(/\s+/);
      const entry: ImageEntry = { mode: fields[0] ?? '', path: `/${fields[5]}` };
      if (fields[6] === '->' && fields[7] !== undefined) entry.target = fields[7];
      return entry;
    })
    .sort((a, b) => a.path.localeCompare(b.path));
}

/** The image's files under `paths` (relative, e.g. var/lib/dpkg), unpacked into a new directory the caller removes. */
export function unpackImage(image: string, paths: string[]): string {
  const dir = mkdtempSync(join(ROOT, '.tmp', 'image-'));
  try {
    exported(image, ['-x', '-C', dir, ...paths]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}
