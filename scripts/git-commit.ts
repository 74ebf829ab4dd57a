// What a build says about the source it is made from: the commit (`--version`,
// the image's revision label) and the commit's time (SOURCE_DATE_EPOCH, every
// timestamp of the image). Read from the local repository, no network.
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';

const git = (root: string, ...args: string[]): string =>
  execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();

/** True when `root` is the top of a git work tree (not a tarball unpacked inside some other repository). */
function isWorkTree(root: string): boolean {
  try {
    return realpathSync(git(root, 'rev-parse', '--show-toplevel')) === realpathSync(root);
  } catch {
    return false;
  }
}

/**
 * HEAD's short hash, with `-dirty` when tracked files differ from it. Empty
 * outside a git work tree of this project (an unpacked tarball, the
 * Dockerfile's builder stage, which gets no .git) or without git.
 */
export function gitCommit(root: string): string {
  if (!isWorkTree(root)) return '';
  try {
    const head = git(root, 'rev-parse', '--short=12', 'HEAD');
    return git(root, 'status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return '';
  }
}

/** HEAD's commit time in seconds since the epoch: the SOURCE_DATE_EPOCH of a build (undefined outside a work tree). */
export function commitTime(root: string): number | undefined {
  if (!isWorkTree(root)) return undefined;
  try {
    return Number(git(root, 'log', '-1', '--format=%ct'));
  } catch {
    return undefined;
  }
}
