// Init mode under a signal storm. libuv hands signals to JavaScript through a
// pipe and drops them when it is full, SIGCHLD included; pause reaps on every
// signal it gets (src/supervisor.ts forwardThenReap), so no child exit may be lost, and it
// must notice the exit while the storm goes on.
import { describe, expect, inject, test } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { startAsPid1 } from './helpers/pid1.ts';
import { childrenOf, isZombie, readProc, start, statusField, taskIds, waitFor, type Started } from './helpers/process.ts';
import { sizeByRate } from './helpers/workload.ts';

/** Standard and real-time signals, each forwarded by pause and ignored by the child. */
const STORM_SIGNALS = [10, 12, 1, 28, 34, 64];

/**
 * The rounds of orphans the child makes during the second test: some 10 s of
 * them at this machine's rate, at least 1,000, at most the 3,000 of a fast
 * machine. The flood beside them takes both cores: the rounds ran 3.3-4.5×
 * slower than the measurement on a 2-core machine (26 and 36 s for 8 s of
 * orphans), hence a slowdown of 5.
 */
const ROUNDS = sizeByRate(inject('orphanRate'), { budgetMs: 10_000, floor: 1_000, ceiling: 3_000, slowdown: 5 });

/**
 * The child: ignores the storm's signals (its own children inherit that),
 * exits 7 on SIGTERM, says `ready`, then forks `rounds` processes that each
 * leave an orphan for pause to reap, says `done` and waits.
 */
const childScript = (rounds: number): string => String.raw`
$SIG{$_} = 'IGNORE' for qw(USR1 USR2 HUP WINCH RTMIN RTMAX), map { "NUM$_" } 35 .. 63;
$SIG{TERM} = sub { exit 7 };
$| = 1;
print "ready
";
for (my $i = 0; $i < ${rounds}; $i++) {
  my $pid = fork;
  next unless defined $pid; # EINTR or EAGAIN: not the point here
  if ($pid == 0) { fork; exit 0 }
  waitpid $pid, 0;
}
print "done
";
sleep 1 while 1;
`;

/** Signals the flood has sent when the sender says `flooding`. */
const FLOODING_AFTER = 10_000;

/**
 * Sends up to `max` signals to `pid`, round robin, as fast as it can; says
 * `flooding` once FLOODING_AFTER are sent; stops when pid is gone or on
 * SIGTERM, and prints how many it sent.
 */
const SENDER = String.raw`
my ($pid, $max, @signals) = @ARGV;
my ($sent, $stop) = (0, 0);
$SIG{TERM} = sub { $stop = 1 };
$| = 1;
for (my $i = 0; !$stop && $i < $max; $i++) {
  if (kill $signals[$i % @signals], $pid) { print "flooding
" if ++$sent == ${FLOODING_AFTER} } elsif ($!{ESRCH}) { last }
}
print "$sent
";
`;

function storm(pid: number, max: number): Started {
  return start('perl', ['-e', SENDER, String(pid), String(max), ...STORM_SIGNALS.map(String)]);
}

/** How many signals the sender sent, from its last line, once it has exited. */
async function sentBy(sender: Started): Promise<number> {
  await sender.exited;
  return Number(sender.stdout().trim().split('\n').at(-1));
}

interface Launched {
  readonly pause: Started;
  /** pause's pid as the test sees it. */
  readonly pid: number;
}

async function launch(asPid1: boolean, script: string): Promise<Launched> {
  const args = ['--', 'perl', '-e', script];
  if (asPid1) {
    const pause = await startAsPid1(PAUSE, args);
    return { pause, pid: pause.pid };
  }
  const pause = start(PAUSE, args);
  return { pause, pid: pause.pid };
}

/**
 * How long pause may take to leave once its child is gone, mid-flood. It takes
 * milliseconds; in one of five full suite runs on a loaded 2-core machine, as
 * PID 1, it had not left after 60 s, and that was not seen again in about 30
 * runs of this test alone and 12 under a load of two busy cores. Until that is
 * explained, this test is retried once, and a miss says what state
 * pause's threads were in: the next one to see it has something to go on.
 */
const EXIT_DEADLINE_MS = 20_000;

/** pause's exit, or after `ms` an error with the state of its threads and of its pending signals. */
async function exitedWithin(pause: Started, pid: number, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const threads = taskIds(pid).map((tid) => `${tid} ${readProc(`/proc/${pid}/task/${tid}/comm`)?.trim()} ` +
        ['State', 'SigBlk', 'SigPnd'].map((f) => `${f}=${statusField(Number(tid), f) ?? '?'}`).join(' '));
      const shared = ['SigQ', 'ShdPnd', 'SigCgt'].map((f) => `${f}=${statusField(pid, f) ?? '?'}`).join(' ');
      const message = `pause had not exited ${ms} ms after its child did; children ${JSON.stringify(childrenOf(pid))}; ${shared}; threads: ${threads.join(' | ')}`;
      console.log(message);
      reject(new Error(message));
    }, ms);
  });
  try {
    return await Promise.race([pause.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A flood that never ends by itself: the sender stops only once pause is gone (or is told to). */
const UNBOUNDED = 100_000_000;

describe.each([['not PID 1', false], ['PID 1', true]] as const)('%s', (_, asPid1) => {
  test('a child that exits during a storm: pause exits with its status', { retry: 1 }, async () => {
    const { pause, pid } = await launch(asPid1, childScript(0));
    await waitFor('the child to say ready', () => pause.stdout().includes('ready'));
    const [child] = childrenOf(pid);
    if (child === undefined) throw new Error('pause has no child');
    const sender = storm(pid, UNBOUNDED);
    await waitFor(`the flood to pass ${FLOODING_AFTER} signals`, () => sender.stdout().includes('flooding'));
    // The child exits in the middle of the flood (its SIGTERM handler: exit
    // 7). Real-time signals queue, and a thread that takes them runs nothing
    // but libuv's signal handler while any is pending; pause keeps its main
    // thread out of that (src/init.ts), so it sees the exit and leaves in the
    // middle of the storm, as tini does.
    process.kill(child, 'SIGTERM');
    expect(await exitedWithin(pause, pid, EXIT_DEADLINE_MS)).toEqual({ code: 7, signal: null });
    // The sender stopped because pause was gone, not because it ran out.
    expect(await sentBy(sender)).toBeLessThan(UNBOUNDED);
  });

  test(`after a storm while ${ROUNDS.count} orphans come and go, no zombie is left`, async () => {
    console.log(`rounds: ${ROUNDS.summary}`);
    const { pause, pid } = await launch(asPid1, childScript(ROUNDS.count));
    await waitFor('the child to say ready', () => pause.stdout().includes('ready'));
    const sender = storm(pid, UNBOUNDED);
    await waitFor(`the child to finish its rounds under the flood (${ROUNDS.summary})`, () => pause.stdout().includes('done'), ROUNDS.deadlineMs);
    sender.child.kill('SIGTERM');
    expect(await sentBy(sender)).toBeGreaterThan(0);
    await waitFor('no zombie among pause\'s children', () => childrenOf(pid).filter(isZombie).length === 0);
    process.kill(pid, 'SIGTERM');
    expect(await pause.exited).toEqual({ code: 7, signal: null });
  }, ROUNDS.deadlineMs + 30_000);
});
