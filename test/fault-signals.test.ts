// SIGSEGV, SIGBUS, SIGFPE and SIGILL sent with kill(2), as the README's signal
// table says: pause neither forwards nor ignores them. As PID 1 the kernel drops
// them (an init has no default actions); otherwise they end pause.
import { describe, expect, test } from 'vitest';
import { execedChild } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { isPauseModeReady, startAsPid1 } from './helpers/pid1.ts';
import { catches, childrenOf, killTree, onCleanup, start, waitFor, type Started } from './helpers/process.ts';

const FAULTS = ['SIGSEGV', 'SIGBUS', 'SIGFPE', 'SIGILL'] as const;
type Fault = (typeof FAULTS)[number];
const SIGSEGV = 11;

/** Init mode with `sleep`, once its listeners are in place (they are before the spawn). */
async function startInit(pause: Started): Promise<number> {
  const child = await execedChild(pause.pid, 'sleep');
  // Not PID 1, the child outlives a pause that a fault signal ends.
  onCleanup(() => killTree(child));
  return child;
}

describe('not PID 1: a fault signal sent with kill ends pause with that signal', () => {
  test.each(FAULTS)('pause mode, %s', async (fault: Fault) => {
    const pause = start(PAUSE, []);
    await waitFor('pause to set up its signals', () => isPauseModeReady(pause.pid));
    process.kill(pause.pid, fault);
    expect(await pause.exited).toEqual({ code: null, signal: fault });
  });

  test.each(FAULTS)('init mode, %s: not forwarded, the command is left running', async (fault: Fault) => {
    // The command lets go of pause's output pipes, or they would stay open after pause ends.
    const pause = start(PAUSE, ['--', 'sh', '-c', 'exec sleep 1000 </dev/null >/dev/null 2>&1']);
    const child = await startInit(pause);
    process.kill(pause.pid, fault);
    expect(await pause.exited).toEqual({ code: null, signal: fault });
    expect(process.kill(child, 0)).toBe(true);
  });
});

describe('PID 1: the kernel drops a fault signal sent with kill', () => {
  test.each(FAULTS)('pause mode, %s twice, then SIGTERM stops it as usual', async (fault: Fault) => {
    const pause = await startAsPid1(PAUSE, []);
    await waitFor('pause to set up its signals', () => isPauseModeReady(pause.pid));
    // Twice: SIGSEGV's first delivery runs Node's handler (below), the second finds SIG_DFL.
    process.kill(pause.pid, fault);
    process.kill(pause.pid, fault);
    // Standard signals pending together are delivered lowest number first: the
    // faults (4, 7, 8, 11) are dealt with before SIGTERM (15).
    process.kill(pause.pid, 'SIGTERM');
    expect(await pause.exited).toEqual({ code: 0, signal: null });
    expect(pause.stderr()).toBe('Shutting down, got signal: Terminated\n');
  });

  test.each(FAULTS)('init mode, %s twice: not forwarded; SIGTERM then is', async (fault: Fault) => {
    const pause = await startAsPid1(PAUSE, ['--', 'sleep', '1000']);
    await startInit(pause);
    process.kill(pause.pid, fault);
    process.kill(pause.pid, fault);
    process.kill(pause.pid, 'SIGTERM');
    // 143: sleep died of the forwarded SIGTERM, not of a forwarded fault (139, 135, 136, 132).
    expect((await pause.exited).code).toBe(143);
    expect(childrenOf(pause.pid)).toEqual([]);
  });
});

// What the table says of SIGSEGV: Node, not pause, catches it (a handler for
// WebAssembly's out-of-bounds traps). Finding no trap, it puts SIGSEGV back to
// its default and raises it again: the same end as the default, one step later.
test.each([
  ['pause mode', [] as string[]],
  ['init mode', ['--', 'sleep', '1000']],
])('%s: SIGSEGV has Node\'s handler, the other three their default', async (_mode, args) => {
  const pause = start(PAUSE, args);
  if (args.length === 0) await waitFor('pause to set up its signals', () => isPauseModeReady(pause.pid));
  else await startInit(pause);
  expect(catches(pause.pid, SIGSEGV)).toBe(true);
  expect([4, 7, 8].map((signo) => catches(pause.pid, signo))).toEqual([false, false, false]);
});
