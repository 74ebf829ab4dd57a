// pause's own writes never signal anyone: with stderr (or stdout and stderr)
// a pipe whose reader is gone, each of pause's log lines fails with EPIPE and
// is dropped, the command is not sent pause's own SIGPIPE, and its status
// comes out. A SIGPIPE that another process sends pause is still forwarded
// (src/init.ts blockHandledSignals). Pause mode and --version/--help
// only see their writes fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRoot } from './helpers/chroot.ts';
import { PAUSE } from './helpers/paths.ts';
import { isPauseModeReady, unshareArgs } from './helpers/pid1.ts';
import { execedChild } from './helpers/children.ts';
import { run, start, statusField, waitFor } from './helpers/process.ts';
import { missingCommands } from './helpers/requires.ts';

/**
 * `sh -c DEAD_READER sh REDIRECT COMMAND...` runs COMMAND with the write end
 * of a pipe that has no reader left: a FIFO opened read-write on 3 (so that
 * opening it for writing on 4 does not block), then 3 closed; REDIRECT says
 * which of COMMAND's descriptors get it.
 */
const DEAD_READER = 'f=$(mktemp -u) && mkfifo "$f" && exec 3<>"$f" 4>"$f" 3<&- && rm "$f" && r=$1 && shift && '
  + 'case $r in stderr) exec "$@" 2>&4 4>&-;; both) exec "$@" >&4 2>&4 4>&-;; stdout) exec "$@" >&4 4>&-;; esac';

type Redirect = 'stderr' | 'both' | 'stdout';

function withDeadReader(redirect: Redirect, command: readonly string[]) {
  return run('sh', ['-c', DEAD_READER, 'sh', redirect, ...command]);
}

function startWithDeadReader(redirect: Redirect, command: readonly string[]) {
  return start('sh', ['-c', DEAD_READER, 'sh', redirect, ...command]);
}

/**
 * The command asks pause (its parent; PID 1 in a namespace) for SIGUSR2 and
 * exits 0 when it comes. libuv passes pause's signals to its loop in the order
 * they came, and pause forwards them in that order: by the time SIGUSR2 is
 * forwarded, pause has written every line it writes at start-up, and any
 * SIGPIPE of its own would have been forwarded first (the command would die of
 * it: 141).
 */
const GATE = 'trap "exit 0" USR2; kill -USR2 $PPID; sleep 1000 & wait';

/** Leaves an orphan, waits for pause to reap it (and so to write -w's line), then GATE. */
const ORPHAN_THEN_GATE = `o=$( (sh -c 'echo $$' &) ); while [ -e /proc/$o ]; do sleep 0.01; done; ${GATE}`;

/** SIGPIPE (13) in a /proc status mask. */
const SIGPIPE_BIT = 1n << 12n;

const PID1 = [['not PID 1', [] as string[]], ['as PID 1', ['unshare', ...unshareArgs()]]] as const;

describe.each(PID1)('%s', (_, prefix) => {
  describe.each([['stderr'], ['both']] as const)('with %s to a pipe whose reader is gone', (redirect) => {
    it('--verbose: the command exits 0 and so does pause', async () => {
      const result = await withDeadReader(redirect, [...prefix, PAUSE, '--verbose', '--', 'sh', '-c', GATE]);
      expect(result.code).toBe(0);
    });

    it('-w: the command exits 0 and so does pause', async () => {
      const result = await withDeadReader(redirect, [...prefix, PAUSE, '-w', '--', 'sh', '-c', ORPHAN_THEN_GATE]);
      expect(result.code).toBe(0);
    });
  });

  it('pause\'s own SIGPIPE stays pending, blocked, on its main thread; the command has none, and no signal blocked', async () => {
    const pause = startWithDeadReader('stderr', [...prefix, PAUSE, '--verbose', '--', 'sleep', '1000']);
    const main = prefix.length === 0 ? pause.pid : await execedChild(pause.pid, 'pause'); // under unshare
    // /proc/PID/status: SigPnd is the main thread's own pending set, ShdPnd the process's.
    await waitFor('SIGPIPE pending on pause\'s main thread', () => (BigInt(`0x${statusField(main, 'SigPnd') ?? '0'}`) & SIGPIPE_BIT) !== 0n);
    expect(BigInt(`0x${statusField(main, 'ShdPnd')}`) & SIGPIPE_BIT).toBe(0n);
    const child = await execedChild(main, 'sleep');
    for (const field of ['SigPnd', 'ShdPnd', 'SigBlk']) expect(statusField(child, field)).toBe('0000000000000000');
    process.kill(main, 'SIGUSR2');
    expect((await pause.exited).code).toBe(128 + 12);
  });

  it('`kill -PIPE` to pause reaches the command, beside pause\'s own SIGPIPE', async () => {
    const script = 'trap "exit 7" PIPE; kill -PIPE $PPID; sleep 1000 & wait';
    const result = await withDeadReader('stderr', [...prefix, PAUSE, '--verbose', '--', 'sh', '-c', script]);
    expect(result.code).toBe(7);
  });
});

describe('without /proc (the warning line is written)', () => {
  const skip = missingCommands(['busybox', 'ldd', 'chroot', 'unshare']);
  let root = '';
  let remove = (): void => {};
  beforeAll(() => {
    if (skip) return;
    ({ root, remove } = makeRoot(PAUSE, 'pause', ['sleep', 'kill']));
  });
  afterAll(() => remove());

  // No --mount-proc: the namespace's /proc is never mounted in the root.
  it.skipIf(skip).each([
    ['not PID 1', 'stderr', []], ['as PID 1', 'stderr', ['unshare', '--pid', '--fork']], ['not PID 1', 'both', []],
  ] as const)('%s, %s to a pipe whose reader is gone: the command exits 0 and so does pause', async (_, redirect, prefix) => {
    const result = await withDeadReader(redirect, [...prefix, 'chroot', root, '/pause', '--', '/bin/sh', '-c', GATE]);
    expect(result.code).toBe(0);
  });

  it.skipIf(skip)('not PID 1: `kill -PIPE` to pause reaches the command', async () => {
    const script = 'trap "exit 7" PIPE; kill -PIPE $PPID; sleep 1000 & wait';
    expect((await withDeadReader('stderr', ['chroot', root, '/pause', '--', '/bin/sh', '-c', script])).code).toBe(7);
  });

  // -w's line is written when the orphan is reaped, in the same turn of the
  // loop. The test's SIGUSR2 comes after that; the command answers it with a
  // SIGUSR2 of its own, which reaches pause after any SIGPIPE of the write.
  it.skipIf(skip)('not PID 1, -w with stderr to a pipe whose reader is gone: the command exits 0 and so does pause', async () => {
    const script = `trap 'trap "exit 0" USR2; kill -USR2 $PPID' USR2; (sh -c 'echo "orphan $$"' &); sleep 1000 & while :; do wait $!; done`;
    const pause = startWithDeadReader('stderr', ['chroot', root, '/pause', '-w', '--', '/bin/sh', '-c', script]);
    const orphan = await waitFor('the orphan', () => Number(/^orphan (\d+)$/m.exec(pause.stdout())?.[1]) || undefined);
    await waitFor('the orphan to be reaped', () => statusField(orphan, 'State') === undefined);
    process.kill(pause.pid, 'SIGUSR2');
    expect((await pause.exited).code).toBe(0);
  });
});

// Pause mode ignores SIGPIPE (SIG_IGN): its writes can only fail.
it('pause mode, stderr to a pipe whose reader is gone: its warning and its shutdown line are dropped, SIGTERM ends it with 0', async () => {
  const pause = startWithDeadReader('stderr', [PAUSE]);
  await waitFor('pause mode to be ready', () => isPauseModeReady(pause.pid));
  process.kill(pause.pid, 'SIGTERM');
  expect((await pause.exited).code).toBe(0);
});

it.each([['--version'], ['--help']])('%s to a stdout whose reader is gone exits 0', async (flag) => {
  expect((await withDeadReader('stdout', [PAUSE, flag])).code).toBe(0);
});
