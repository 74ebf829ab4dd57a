// The glibc floor: dist/pause alone (as --init-path mounts it) in a real
// Debian 11 root, glibc 2.31, older than the two spawn file actions pause uses
// where they exist (closefrom 2.34, tcsetpgrp 2.35). The root holds what the
// README asks of an image: glibc, libstdc++6 and libatomic1.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmountUnder } from '../tools/mounts.ts';
import { debianMirror } from './image/helpers/stand-in.ts';
import { PAUSE } from './helpers/paths.ts';
import { blocks, childrenOf, run, start, taskIds, waitFor } from './helpers/process.ts';
import { openTerminal, type Stat } from './helpers/pty.ts';
import { missingCommands } from './helpers/requires.ts';

const SUITE = 'bullseye';
/** Made once per machine and kept: debootstrap takes a minute. Change the name to remake it. */
const CACHED = `/var/tmp/pause-tests-cache/debian-${SUITE}-minbase-libatomic1-libstdc++6-1`;

const skip = missingCommands(['debootstrap', 'chroot', 'unshare']);
let root = '';

/** The cached root, made if missing: built aside, then renamed in place (a concurrent maker's copy is dropped). */
function cachedRoot(): string {
  if (existsSync(CACHED)) return CACHED;
  execFileSync('mkdir', ['-p', join(CACHED, '..')]);
  const work = mkdtempSync(`${CACHED}.making-`);
  try {
    execFileSync('debootstrap', ['--variant=minbase', '--include=libatomic1,libstdc++6', SUITE, work, debianMirror()], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(CACHED)) renameSync(work, CACHED);
  } finally {
    unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  }
  return CACHED;
}

beforeAll(() => {
  if (skip) return;
  const cached = cachedRoot();
  // A copy of hard links (the cache stays untouched: nothing here writes to its files), plus pause.
  root = mkdtempSync('/var/tmp/pause-glibc-floor-');
  execFileSync('cp', ['-al', `${cached}/.`, root]);
  copyFileSync(PAUSE, join(root, 'pause'));
});
afterAll(() => {
  if (!root) return;
  unmountUnder(root);
  rmSync(root, { recursive: true, force: true });
});

/** `command` in the root as PID 1 of a new PID namespace with its own /proc. */
function inRoot(command: readonly string[]): [string, string[]] {
  return ['unshare', ['--pid', '--fork', '--mount', `--mount-proc=${join(root, 'proc')}`, 'chroot', root, ...command]];
}

/** The descriptors `ls` has open, run by `prefix` in the root. */
async function descriptorsOfLs(prefix: readonly string[]): Promise<string> {
  const listed = await run(...inRoot([...prefix, 'ls', '/proc/self/fd']));
  expect(listed).toMatchObject({ code: 0, stderr: '' });
  return listed.stdout;
}

const inForeground = (comm: string) => (stat: Stat): boolean => stat.comm === comm && stat.tpgid === stat.pgrp;

describe.skipIf(skip)(`in Debian 11 (${SUITE}), glibc 2.31`, () => {
  it('the root is as old as the test says', () => {
    expect(execFileSync('chroot', [root, 'ldd', '--version'], { encoding: 'utf8' })).toMatch(/^ldd .* 2\.31\n/);
  });

  it('`pause -- true` exits 0, and the command gets the inherited descriptors only', async () => {
    expect(await run(...inRoot(['/pause', '--', 'true']))).toMatchObject({ code: 0, stderr: '' });
    // Node's own descriptors (epoll, eventfd, pipes) closed one by one without closefrom:
    // ls sees what it sees when started without pause.
    expect(await descriptorsOfLs(['/pause', '--'])).toBe(await descriptorsOfLs([]));
  });

  // The native forwarding code (scripts/native-forwarder.ts) on the oldest glibc
  // pause supports: its thread, made by that glibc's pthread_create, waits for
  // SIGUSR1 (SigBlk open in rt_sigtimedwait) and forwards it.
  it('SIGUSR1 is taken by pause\'s own forwarding thread, not the main one, and forwarded', async () => {
    const [command, args] = inRoot(['/pause', '--', 'sh', '-c', 'trap "exit 7" USR1; echo ready; while :; do sleep 0.1; done']);
    const started = start(command, args);
    await waitFor('the command to be ready', () => started.stdout().includes('ready'));
    const [pause] = childrenOf(started.pid);
    // Made right after the spawn, the thread may not be waiting yet when the command is ready.
    const masks = () => taskIds(pause!).map((tid) => blocks(Number(tid), 10));
    await waitFor('pause\'s forwarding thread in rt_sigtimedwait', () => masks().length === 4 && !masks()[3]);
    expect(masks()).toEqual([true, true, true, false]);
    process.kill(pause!, 'SIGUSR1');
    expect(await started.exited).toEqual({ code: 7, signal: null });
    expect(started.stderr()).toBe('');
  });

  it('on a terminal, the command gets the foreground: Ctrl-C ends it and pause exits 130', async () => {
    // stty first: tcsetattr from the background would stop it (SIGTTOU) if it ran before pause gave the foreground.
    const term = openTerminal(...inRoot(['/pause', '--', 'sh', '-c', 'stty sane && echo ready && exec cat']));
    await term.waitForOutput(/ready/);
    await term.waitForMember('cat in the foreground', inForeground('cat'));
    term.write('\x03');
    expect(await term.exited).toEqual({ exitCode: 130, signal: 0 });
  });
});
