// Pause mode as PID 1 of a new PID namespace: the built executable, a real kernel.
import { describe, expect, inject, it } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { inNamespaceArgs, isPauseModeReady, startAsPid1, startAsPid1WithZombie, unshareArgs } from './helpers/pid1.ts';
import { childrenOf, cpuTicks, isAlive, isZombie, listeningTcpInodes, run, start, voluntarySwitches, waitFor } from './helpers/process.ts';
import { orphanStormScript, sizeByRate } from './helpers/workload.ts';

/** The storm: some 15 s of orphans on this machine, at least 1,000, at most the 5,000 of a fast one. */
const STORM = sizeByRate(inject('orphanRate'), { budgetMs: 15_000, floor: 1_000, ceiling: 5_000 });

/**
 * Starts pause as PID 1 and waits until it has set up its signals. Until then
 * a namespace's init drops every signal it has no handler for: a SIGTERM sent
 * during Node's start-up (some tens of milliseconds) is lost.
 */
async function startPause(options: Parameters<typeof startAsPid1>[2] = {}) {
  const pause = await startAsPid1(PAUSE, [], options);
  await waitFor('pause to set up its signals', () => isPauseModeReady(pause.pid));
  return pause;
}

/** Children of pause that are zombies. */
const zombiesOf = (pid: number): number[] => childrenOf(pid).filter(isZombie);

describe('pause mode as PID 1', () => {
  it(`leaves no zombie after a storm of ${STORM.count} orphans, and does not wake up for it`, async () => {
    console.log(`storm: ${STORM.summary}`);
    const pause = await startPause();
    const switchesBefore = voluntarySwitches(pause.pid);
    const ticksBefore = cpuTicks(pause.pid);

    const [command, args] = inNamespaceArgs(pause.pid, orphanStormScript(STORM.count));
    const storm = await run(command, args);
    expect(storm.code, storm.stderr).toBe(0);

    // The last orphans may still be running: wait until none is (each child of
    // pause gone or a zombie), then none may be a zombie.
    await waitFor(`every orphan to have exited (${STORM.summary})`, () => childrenOf(pause.pid).every(isZombie), STORM.deadlineMs - STORM.expectedMs);
    expect(zombiesOf(pause.pid)).toEqual([]);
    expect(isAlive(pause.pid)).toBe(true);
    // SIGCHLD is ignored: the kernel releases each orphan without waking pause.
    expect(voluntarySwitches(pause.pid)).toBe(switchesBefore);
    expect(cpuTicks(pause.pid)).toBe(ticksBefore);
  }, STORM.deadlineMs);

  it('reaps a zombie it inherited before it started', async () => {
    const { pid1: pause } = await startAsPid1WithZombie(PAUSE, []);
    await waitFor('the inherited zombie to be reaped', () => childrenOf(pause.pid).length === 0, 5000);
  });

  for (const [signal, description] of [['SIGTERM', 'Terminated'], ['SIGINT', 'Interrupt']] as const) {
    it(`exits 0 on ${signal} with pause.c's message`, async () => {
      const pause = await startPause();
      process.kill(pause.pid, signal);
      const { code } = await pause.exited;
      expect(code).toBe(0);
      expect(pause.stderr()).toBe(`Shutting down, got signal: ${description}\n`);
    });
  }

  it('keeps running and prints nothing for every other common signal', async () => {
    const pause = await startPause();
    const others = ['SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGPIPE', 'SIGALRM'] as const;
    for (const signal of others) process.kill(pause.pid, signal);
    // A signal pause would act on is the fence: SIGTERM is delivered after the others were dealt with.
    process.kill(pause.pid, 'SIGTERM');
    await pause.exited;
    expect(pause.stderr()).toBe('Shutting down, got signal: Terminated\n');
  });

  it('never opens the inspector, whenever SIGUSR1 arrives', async () => {
    // Send SIGUSR1 from the moment the process exists, start-up included, for a second.
    // Its own network namespace, loopback up: a debugger would listen on 127.0.0.1:9229 there.
    const pause = start('unshare', [...unshareArgs(), '--net', 'sh', '-c', `ip link set lo up && exec ${PAUSE}`]);
    const unsharePid = pause.pid;
    const sent = { count: 0 };
    const deadline = Date.now() + 1000;
    let inner: number | undefined;
    while (Date.now() < deadline) {
      inner ??= childrenOf(unsharePid)[0];
      if (inner !== undefined && isAlive(inner)) {
        process.kill(inner, 'SIGUSR1');
        sent.count++;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(inner).toBeDefined();
    expect(sent.count).toBeGreaterThan(100);
    // The namespace has its own network stack: any listening socket would be pause's.
    expect([...listeningTcpInodes(inner!)]).toEqual([]);
    expect(isAlive(inner!)).toBe(true);
    process.kill(inner!, 'SIGTERM');
    await pause.exited;
    expect(pause.stderr()).not.toMatch(/Debugger|inspector|ws:\/\//i);
  });

  it("ignores NODE_OPTIONS meant for the container's application", async () => {
    const pause = await startPause({ env: { ...process.env, NODE_OPTIONS: '--require /nonexistent.js' } });
    process.kill(pause.pid, 'SIGTERM');
    const { code } = await pause.exited;
    expect(code).toBe(0);
    expect(pause.stderr()).toBe('Shutting down, got signal: Terminated\n');
  });
});

describe('pause mode not as PID 1', () => {
  it('warns, keeps running, and stops on SIGTERM', async () => {
    const pause = start(PAUSE, []);
    await waitFor('the warning and the handlers', () =>
      pause.stderr().includes('Warning: pause should be the first process\n') && isPauseModeReady(pause.pid));
    process.kill(pause.pid, 'SIGHUP'); // would end a process without a handler
    process.kill(pause.pid, 'SIGTERM');
    const { code } = await pause.exited;
    expect(code).toBe(0);
    expect(pause.stderr()).toBe('Warning: pause should be the first process\nShutting down, got signal: Terminated\n');
  });
});
