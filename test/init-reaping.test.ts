// Init mode: pause reaps every orphan, winds down what the child left behind
// (src/supervisor.ts reap/commandExited/signalTheRest), and says so in its log.
import { describe, expect, inject, test } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { startAsPid1 } from './helpers/pid1.ts';
import { orphanStormScript, sizeByRate } from './helpers/workload.ts';
import { isAlive, start, statusField, waitFor, type Started } from './helpers/process.ts';

/** 1,000 orphans, and the time they take on this machine. */
const STORM = sizeByRate(inject('orphanRate'), { budgetMs: 0, floor: 1_000, ceiling: 1_000 });

/**
 * perl that waits up to 10 s for no zombie to be left in its PID namespace:
 * exit 0 when there is none, 1 when some remain.
 */
const NO_ZOMBIES_LEFT = String.raw`perl -e '
for (1 .. 1000) {
  my $zombies = 0;
  for my $dir (glob "/proc/[0-9]*") {
    open(my $f, "<", "$dir/status") or next;
    $zombies += grep { /^State:\s+Z/ } <$f>;
  }
  exit 0 unless $zombies;
  select undef, undef, undef, 0.01;
}
exit 1'`;

/** A leftover that ignores SIGTERM (an ignored signal stays ignored across exec). */
const LEFTOVER = `trap "" TERM; sleep 100 & echo "leftover $!"; echo "exiting $(date +%s%3N)"; exit 0`;

const pidIn = (output: string, label: string): number | undefined => {
  const match = new RegExp(`^${label} (\\d+)$`, 'm').exec(output);
  return match ? Number(match[1]) : undefined;
};

/** Milliseconds from the child's last word to pause's exit. */
async function windDown(pause: Started): Promise<{ code: number | null; ms: number }> {
  const { code } = await pause.exited;
  const ended = Date.now();
  const exiting = pidIn(pause.stdout(), 'exiting');
  if (exiting === undefined) throw new Error(`the child did not run: ${pause.stderr()}`);
  return { code, ms: ended - exiting };
}

describe('as PID 1', () => {
  test('1,000 orphans are all reaped, and pause exits 0 with nothing left in the namespace', async () => {
    console.log(`storm: ${STORM.summary}`);
    const script = `${orphanStormScript(STORM.count)} && ${NO_ZOMBIES_LEFT}`;
    const pause = await startAsPid1(PAUSE, ['--', 'sh', '-c', script]);
    // unshare exits with pause's status, once its PID namespace is empty.
    expect(await pause.exited).toEqual({ code: 0, signal: null });
    expect(pause.stderr()).toBe('');
  }, STORM.deadlineMs);

  test('a leftover that ignores SIGTERM is SIGKILLed after --grace-period 1, and pause waits for it', async () => {
    const pause = await startAsPid1(PAUSE, ['--grace-period', '1', '-w', '--', 'sh', '-c', LEFTOVER]);
    const { code, ms } = await windDown(pause);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1000);
    const leftover = pidIn(pause.stdout(), 'leftover');
    expect(pause.stderr()).toContain(`pause: Reaped zombie process with pid=${leftover} signal=SIGKILL\n`);
  });

  test('the exit status is the child\'s, not that of what is killed after it', async () => {
    const pause = await startAsPid1(PAUSE, ['-w', '--', 'sh', '-c', 'sleep 100 & echo "leftover $!"; exit 5']);
    expect((await pause.exited).code).toBe(5);
    expect(pause.stderr()).toContain(`pause: Reaped zombie process with pid=${pidIn(pause.stdout(), 'leftover')} signal=SIGTERM\n`);
  });

  test('with --grace-period 0 pause exits at once', async () => {
    const pause = await startAsPid1(PAUSE, ['--grace-period', '0', '-w', '--', 'sh', '-c', LEFTOVER]);
    const { code, ms } = await windDown(pause);
    expect(code).toBe(0);
    expect(ms).toBeLessThan(500);
    expect(pause.stderr()).toContain(`pause: Reaped zombie process with pid=${pidIn(pause.stdout(), 'leftover')} signal=SIGKILL\n`);
  });
});

describe('not PID 1: as child subreaper', () => {
  test('an orphan of the child\'s child becomes pause\'s child and is reaped', async () => {
    const pause = start(PAUSE, ['--', 'sh', '-c', '(sleep 100 & echo "orphan $!"); exec sleep 100']);
    const pausePid = pause.pid;
    const orphan = await waitFor('the orphan', () => pidIn(pause.stdout(), 'orphan'));
    await waitFor('the orphan to be re-parented to pause', () => statusField(orphan, 'PPid') === String(pausePid));
    process.kill(orphan, 'SIGKILL');
    // Gone from /proc: not a zombie, reaped.
    await waitFor('the orphan to be reaped', () => statusField(orphan, 'State') === undefined);
  });

  // As an engine's stop: its SIGKILL comes a set time after its SIGTERM to pause.
  test('after pause itself got SIGTERM, the grace period counts from it: once over, the rest get SIGKILL at once', async () => {
    const script = 'trap "" TERM; trap "exit 3" USR1; sleep 1000 & echo ready; while :; do sleep 0.05; done';
    const pause = start(PAUSE, ['--verbose', '--grace-period', '1', '--', 'sh', '-c', script]);
    await waitFor('the command', () => pause.stdout().includes('ready'));
    process.kill(pause.pid, 'SIGTERM');
    // The grace period running from the SIGTERM is what is tested: let it pass.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    process.kill(pause.pid, 'SIGUSR1');
    expect((await pause.exited).code).toBe(3);
    expect(pause.stderr()).toContain('pause: sending SIGKILL to the processes that are left');
    expect(pause.stderr()).not.toContain('SIGTERM and SIGCONT');
  });

  test('clean-up kills a descendant that ignores SIGTERM and spares a process outside pause\'s tree', async () => {
    const outside = start('sleep', ['100']);
    const pause = start(PAUSE, ['--grace-period', '1', '--', 'sh', '-c', LEFTOVER]);
    const { code, ms } = await windDown(pause);
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(1000);
    const leftover = pidIn(pause.stdout(), 'leftover');
    expect(leftover).toBeDefined(); // isAlive(undefined ?? 0) would be false whatever pause did
    expect(isAlive(leftover ?? 0)).toBe(false);
    expect(isAlive(outside.pid)).toBe(true);
  });
});

describe('log', () => {
  test('-w logs each reaped process that was not the child, with its exit code or signal', async () => {
    const script = `(sh -c 'echo "exits $$"; exit 3' &); (sh -c 'echo "killed $$"; kill -9 $$' &); exec sleep 100`;
    const pause = start(PAUSE, ['-w', '--', 'sh', '-c', script]);
    const exits = await waitFor('the first orphan', () => pidIn(pause.stdout(), 'exits'));
    const killed = await waitFor('the second orphan', () => pidIn(pause.stdout(), 'killed'));
    await waitFor('pause to log both', () => pause.stderr().includes(`pause: Reaped zombie process with pid=${exits} exit=3\n`)
      && pause.stderr().includes(`pause: Reaped zombie process with pid=${killed} signal=SIGKILL\n`));
  });

  test('--verbose logs the spawn, each forwarded signal and the exit', async () => {
    const pause = start(PAUSE, ['--verbose', '--', 'sleep', '100']);
    const pausePid = pause.pid;
    const child = await waitFor('the spawn to be logged', () => Number(/^pause: started sleep pid=(\d+) /m.exec(pause.stderr())?.[1]) || undefined);
    process.kill(pausePid, 'SIGTERM');
    expect(await pause.exited).toEqual({ code: 143, signal: null });
    expect(pause.stderr()).toBe([
      // Not PID 1 here: pause registers as subreaper by itself (-s only makes failing fatal).
      'pause: registered as child subreaper required=false',
      "pause: Node's internal bindings ffi=internal signal_wrap=internal",
      `pause: started sleep pid=${child} pgid=${child} foreground=false`,
      // Node's two threads (V8's worker, its delayed-task thread) block them from the start.
      'pause: signals are forwarded by native code signals=53 nodeThreadsClosed=2',
      `pause: forwarded SIGTERM to pid ${child}`,
      `pause: command exited pid=${child} signal=SIGTERM`,
      'pause: exiting code=143',
      '',
    ].join('\n'));
  });

  test('--log-format json makes every line pause writes a JSON object', async () => {
    const script = `(sh -c 'exit 3' &); trap 'exit 7' USR2; echo ready; while :; do sleep 0.01; done`;
    const pause = start(PAUSE, ['--verbose', '-w', '--log-format', 'json', '--', 'sh', '-c', script]);
    await waitFor('the child', () => pause.stdout().includes('ready'));
    await waitFor('the orphan to be reaped', () => pause.stderr().includes('Reaped zombie process'));
    process.kill(pause.pid, 'SIGUSR2');
    expect((await pause.exited).code).toBe(7);
    const lines = pause.stderr().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), msg: expect.any(String) });
    // -w's line: tini's words in msg, and the pid as a field as well.
    const reaped = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => String(line.msg).startsWith('Reaped'));
    expect(reaped).toMatchObject({ level: 'warn', msg: `Reaped zombie process with pid=${String(reaped?.pid)}`, pid: expect.any(Number), exit: 3 });
  });

  test('--log-format json: an exec failure is a JSON line too', async () => {
    const pause = start(PAUSE, ['--log-format', 'json', '--', '/nonexistent']);
    expect((await pause.exited).code).toBe(127);
    expect(JSON.parse(pause.stderr())).toMatchObject({ level: 'error', msg: '/nonexistent: no such file or directory' });
  });
});
