// An internal error after the command has started (src/internal-error.ts): one
// line on stderr, the command stopped as an engine would and reaped, what is
// left wound down, and pause exits with the command's status; nothing of its
// tree outlives it. Reached for real: a build of pause whose entry
// (test/fixtures/internal-error.ts) adds a SIGPWR listener that throws, so the
// exception goes up through Node as any that pause's own code let through.
// Each pause drops SIGPWR (--rewrite PWR:0): a signal the native forwarding
// code does not send goes on to the listeners (scripts/native-forwarder.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/paths.ts';
import { startAsPid1 } from './helpers/pid1.ts';
import { isAlive, killTree, onCleanup, run, start, waitFor, type Started } from './helpers/process.ts';

const STAGED = 'pause-internal-error';
let dir = '';
let faulty = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pause-internal-error-'));
  // Its own name: scripts/build.ts stages each output under build/ARCH/NAME.
  faulty = join(dir, STAGED);
  const built = await run('npx', ['tsx', 'scripts/build.ts', '--entry', 'test/fixtures/internal-error.ts', '--out', faulty], { cwd: ROOT });
  if (built.code !== 0) throw new Error(`the test build failed: ${built.stderr}`);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(ROOT, 'build', arch(), STAGED), { recursive: true, force: true });
});

const DROP_PWR = ['--rewrite', 'PWR:0'];
const ONE_LINE = /^pause: internal error: fault wired in by test\/fixtures\/internal-error\.ts: [^\n]*\n$/;

const pidIn = (output: string, label: string): number | undefined => {
  const match = new RegExp(`^${label} (\\d+)$`, 'm').exec(output);
  return match ? Number(match[1]) : undefined;
};

/**
 * Once the command has said `ready`, sends pause SIGPWR: the fault. Should
 * pause fail to stop them, the processes the command named are killed after
 * the test: they would have outlived pause.
 */
async function fault(pause: Started): Promise<void> {
  await waitFor('the command to be ready', () => pause.stdout().includes('ready\n'));
  onCleanup(() => {
    for (const match of pause.stdout().matchAll(/^(?:command|leftover) (\d+)$/gm)) {
      const pid = Number(match[1]);
      if (isAlive(pid)) killTree(pid);
    }
  });
  process.kill(pause.pid, 'SIGPWR');
}

/** A command that ignores SIGPWR (pause may forward it before the fault), exits 42 on SIGTERM, and leaves a process in another session. */
const EXITS_42 = 'trap "" PWR; trap "exit 42" TERM; setsid sleep 1000 & echo "leftover $!"; echo "command $$"; echo ready; sleep 1000 & wait';

describe('not PID 1', () => {
  it('the command gets SIGTERM, its 42 comes out, and nothing of pause\'s tree is left', async () => {
    const pause = start(faulty, [...DROP_PWR, '--', 'sh', '-c', EXITS_42]);
    await fault(pause);
    expect((await pause.exited).code).toBe(42);
    expect(pause.stderr()).toMatch(ONE_LINE);
    for (const label of ['command', 'leftover']) {
      const pid = pidIn(pause.stdout(), label);
      expect(pid).toBeDefined();
      expect(isAlive(pid ?? 0)).toBe(false);
    }
  });

  it('a command that ignores SIGTERM is SIGKILLed after the grace period and reaped: 137', async () => {
    const script = 'trap "" PWR TERM; echo "command $$"; echo ready; while :; do sleep 1; done';
    const pause = start(faulty, [...DROP_PWR, '--grace-period', '1', '--', 'sh', '-c', script]);
    await fault(pause);
    expect((await pause.exited).code).toBe(137);
    expect(pause.stderr()).toMatch(ONE_LINE);
    expect(isAlive(pidIn(pause.stdout(), 'command') ?? 0)).toBe(false);
  });

  it('during the wind-down, after the command exited 5: its 5 comes out', async () => {
    const script = 'trap "" PWR; (trap "" TERM; while :; do sleep 1; done) & echo "leftover $!"; echo ready; exit 5';
    const pause = start(faulty, [...DROP_PWR, '--grace-period', '1000', '--', 'sh', '-c', script]);
    await fault(pause);
    // With the grace period of 1000 s running, pause was waiting for the leftover.
    await waitFor('the leftover to be killed', () => !isAlive(pidIn(pause.stdout(), 'leftover') ?? 0));
    expect((await pause.exited).code).toBe(5);
    expect(pause.stderr()).toMatch(ONE_LINE);
  });
});

it('as PID 1: the command gets SIGTERM and its 42 comes out', async () => {
  const pause = await startAsPid1(faulty, [...DROP_PWR, '--', 'sh', '-c', EXITS_42]);
  await fault(pause);
  // unshare exits with pause's status once its PID namespace is empty.
  expect((await pause.exited).code).toBe(42);
  expect(pause.stderr()).toMatch(ONE_LINE);
});
