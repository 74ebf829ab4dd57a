// Which descriptors pause inherited from whoever started it, told apart from
// Node's own: the command gets the first at the same numbers, never the second.
// docs/init-mode.md ("Descriptors") says why the rule below is reliable.
import { constants, fstatSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * What a descriptor is, as far as the rule needs: Node opens only anonymous
 * inodes (epoll, eventfd, io_uring: fstat(2) shows no file type) and pipes
 * (both ends of each) before pause's code runs. 'epoll' marks the lowest
 * epoll, when /proc can say which that is; without /proc it is 'anonymous'.
 */
export type Kind = 'epoll' | 'anonymous' | 'pipe' | 'other';

export interface OpenFd {
  readonly fd: number;
  readonly kind: Kind;
  /** st_dev:st_ino: the same for both ends of one pipe. */
  readonly id: string;
}

export interface Descriptors {
  /** Open when pause started: the command gets them. */
  readonly inherited: readonly number[];
  /** Node's own (its epoll, eventfds, pipes): closed in the command. */
  readonly nodes: readonly number[];
}

/**
 * Node marks the inherited descriptors close-on-exec at start-up, and only
 * then opens its own, each at the lowest free number, an epoll first. So
 * every descriptor below Node's first is inherited; above it, the inherited
 * ones fill the numbers Node did not need, and are told apart by kind: Node's
 * are anonymous inodes, or pipes whose both ends it holds.
 */
export function classify(open: readonly OpenFd[]): Descriptors {
  const sorted = [...open].sort((a, b) => a.fd - b.fd);
  const first = (sorted.find((d) => d.kind === 'epoll') ?? sorted.find((d) => d.kind === 'anonymous'))?.fd ?? Infinity;
  const ends = new Map<string, number>();
  for (const d of sorted) if (d.fd >= first && d.kind === 'pipe') ends.set(d.id, (ends.get(d.id) ?? 0) + 1);
  const isNodes = (d: OpenFd): boolean =>
    d.fd >= first && (d.kind === 'epoll' || d.kind === 'anonymous' || (d.kind === 'pipe' && (ends.get(d.id) ?? 0) >= 2));
  return {
    inherited: sorted.filter((d) => !isNodes(d)).map((d) => d.fd),
    nodes: sorted.filter(isNodes).map((d) => d.fd),
  };
}

/** Without /proc, descriptors are looked for by trying each number below this one (FD_SETSIZE, <sys/select.h>). */
export const PROBE_LIMIT = 1024;

/** What fstat(2) says `fd` is, or null when it is not open (EBADF). */
function describe(fd: number): OpenFd | null {
  try {
    const stat = fstatSync(fd);
    const type = stat.mode & constants.S_IFMT;
    const kind: Kind = type === 0 ? 'anonymous' : type === constants.S_IFIFO ? 'pipe' : 'other';
    return { fd, kind, id: `${stat.dev}:${stat.ino}` };
  } catch {
    return null;
  }
}

/**
 * An epoll and an eventfd share one anonymous inode: only the link's name in
 * /proc tells them apart. The rule needs the lowest epoll only, so the links
 * are read from the lowest anonymous descriptor up until one is an epoll.
 */
function markFirstEpoll(fds: OpenFd[], procRoot: string): OpenFd[] {
  const sorted = [...fds].sort((a, b) => a.fd - b.fd);
  const at = sorted.findIndex((d) => d.kind === 'anonymous' && isEpoll(d.fd, procRoot));
  const found = sorted[at];
  if (found) sorted[at] = { ...found, kind: 'epoll' };
  return sorted;
}

function isEpoll(fd: number, procRoot: string): boolean {
  try {
    return readlinkSync(`${procRoot}/self/fd/${fd}`) === 'anon_inode:[eventpoll]';
  } catch {
    return false;
  }
}

/**
 * Every open descriptor, from /proc/self/fd; without /proc (procRoot null:
 * none of pause's own, see procState in src/procfs.ts), every one below
 * PROBE_LIMIT that `isOpen` finds (`complete` is then false): a failing fstat
 * costs ~40 µs under --jitless, fcntl through libc ~1 µs. The directory that
 * readdir opens is closed again before the fstat calls, which so leave it out.
 */
export function openDescriptors(procRoot: string | null = '/proc', isOpen: (fd: number) => boolean = () => true): { fds: OpenFd[]; complete: boolean } {
  const listed = procRoot === null ? null : listDescriptors(procRoot);
  const numbers = listed ?? Array.from({ length: PROBE_LIMIT }, (_, fd) => fd).filter(isOpen);
  const fds = numbers.map(describe).filter((d): d is OpenFd => d !== null);
  return listed && procRoot !== null ? { fds: markFirstEpoll(fds, procRoot), complete: true } : { fds, complete: false };
}

/** The numbers in procRoot/self/fd, or null when it cannot be read. */
function listDescriptors(procRoot: string): number[] | null {
  try {
    return readdirSync(`${procRoot}/self/fd`).map(Number);
  } catch {
    return null;
  }
}
