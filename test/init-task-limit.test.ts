// Init mode under a task limit (RLIMIT_NPROC) that leaves room for the
// command but not for pause's signal thread (src/init.ts
// takeSignalsOnOwnThread): the command still runs, one line says what is
// weaker, and SIGUSR1 is still forwarded (by the main thread itself).
import { expect, test } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { start, waitFor, type Started } from './helpers/process.ts';

/** A uid of its own: RLIMIT_NPROC counts every task of the uid on the machine. */
const UID = '64997';

function limited(nproc: number, command: readonly string[]): Started {
  return start('setpriv', ['--reuid', UID, '--regid', UID, '--clear-groups', 'prlimit', `--nproc=${nproc}`, PAUSE, '--', ...command]);
}

const WARNING = /^pause: cannot start a thread to take signals \(resource temporarily unavailable\): a flood of SIGUSR1 may delay the command's exit being seen$/m;

// setpriv needs root to take another uid.
test.skipIf(process.getuid?.() !== 0)('the tightest limit that runs the command: one warning, and SIGUSR1 still reaches it', async () => {
  // The least limit under which the command runs: below it, the spawn fails
  // (at 2, Node itself never gets through its start-up: not tried).
  let nproc = 3;
  for (; nproc <= 12; nproc++) {
    const tried = limited(nproc, ['true']);
    const { code } = await tried.exited;
    if (code === 0) {
      expect(tried.stderr()).toMatch(WARNING);
      expect(tried.stderr().trim().split('\n')).toHaveLength(1);
      break;
    }
  }
  expect(nproc, 'no limit up to 12 tasks let the command run').toBeLessThanOrEqual(12);
  const pause = limited(nproc, ['perl', '-e', '$| = 1; print "ready\\n"; sleep 30']);
  await waitFor('the child to start', () => pause.stdout().includes('ready'));
  pause.child.kill('SIGUSR1');
  expect(await pause.exited).toEqual({ code: 128 + 10, signal: null });
  // One more task: the thread starts, and nothing is said.
  const roomier = limited(nproc + 1, ['true']);
  expect(await roomier.exited).toEqual({ code: 0, signal: null });
  expect(roomier.stderr()).toBe('');
});
