// Init mode's first moments: what it inherits from whoever exec'd it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { execedChild } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { startAsPid1WithZombie } from './helpers/pid1.ts';
import { childrenOf, waitFor } from './helpers/process.ts';

describe('init mode start-up', () => {
  it('reaps a zombie it inherited, though no SIGCHLD announces it', async () => {
    const { pid1: pause, zombie } = await startAsPid1WithZombie(PAUSE, ['--', 'sleep', '100']);
    await waitFor('the inherited zombie to be reaped', () => !childrenOf(pause.pid).includes(zombie), 5000);
    // The command itself is running (once spawned and exec'd), and is pause's only child.
    const child = await execedChild(pause.pid, 'sleep');
    expect(childrenOf(pause.pid)).toEqual([child]);
    expect(readFileSync(`/proc/${child}/cmdline`, 'latin1').split('\0')).toEqual(['sleep', '100', '']);
  });
});
