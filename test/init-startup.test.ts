// Init mode's first moments: what it inherits from whoever exec'd it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execedChild } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { startAsPid1 } from './helpers/pid1.ts';
import { childrenOf, isZombie, waitFor } from './helpers/process.ts';

describe('init mode start-up', () => {
  it('reaps a zombie it inherited, though no SIGCHLD announces it', async () => {
    // perl forks a child that exits at once, then execs pause without waiting for it.
    const pause = await startAsPid1('perl', ['-e', 'fork or exit 0; sleep 1; exec @ARGV or die', PAUSE, '--', 'sleep', '100']);
    const zombie = await waitFor('the zombie, before pause runs', () => childrenOf(pause.pid).find(isZombie));
    await waitFor('pause to exec', () => readFileSync(`/proc/${pause.pid}/cmdline`, 'latin1').startsWith(PAUSE), 5000);
    await waitFor('the inherited zombie to be reaped', () => !childrenOf(pause.pid).includes(zombie), 5000);
    // The command itself is running (once spawned and exec'd), and is pause's only child.
    const child = await execedChild(pause.pid, 'sleep');
    expect(childrenOf(pause.pid)).toEqual([child]);
    expect(readFileSync(`/proc/${child}/cmdline`, 'latin1').split('\0')).toEqual(['sleep', '100', '']);
  });
});
