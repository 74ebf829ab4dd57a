// -p SIG: the kernel sends SIG to pause when its parent dies (PR_SET_PDEATHSIG),
// and pause treats it as any signal it receives: it forwards it.
import { expect, test } from 'vitest';
import { REPORTER, readyPid } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { childrenOf, onCleanup, start, tryKill, waitFor } from './helpers/process.ts';

const SIGUSR2 = 12;

test('-p USR2: when its parent dies, pause gets SIGUSR2 and forwards it to the child', async () => {
  // perl is pause's parent: it forks, execs pause in the child, and waits.
  const parent = start('perl', ['-e', 'if (fork) { sleep 100 } else { exec @ARGV or die }', PAUSE, '-p', 'USR2', '--', 'perl', '-e', REPORTER]);
  const child = await waitFor('the child to be ready', () => readyPid(parent.stdout()));
  const [pause] = childrenOf(parent.pid);
  expect(pause).toBeDefined();
  // Once perl is gone they are no longer below the test's own process: clean them up by pid.
  onCleanup(() => { tryKill(child, 'SIGKILL'); tryKill(pause!, 'SIGKILL'); });
  expect(parent.stdout()).not.toContain('got');

  process.kill(parent.pid, 'SIGKILL');
  await waitFor('the child to get SIGUSR2', () => parent.stdout().includes(`child ${child} got ${SIGUSR2}\n`));
});
