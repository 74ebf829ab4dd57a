// Init mode under a signal storm. libuv hands signals to JavaScript through a
// pipe and drops them when it is full, SIGCHLD included; pause reaps on every
// signal it gets (src/init.ts forward), so no child exit may be lost, and it
// must notice the exit while the storm goes on.
import { describe, expect, test } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { startAsPid1 } from './helpers/pid1.ts';
import { childrenOf, isZombie, start, waitFor, type Started } from './helpers/process.ts';

/** Standard and real-time signals, each forwarded by pause and ignored by the child. */
const STORM_SIGNALS = [10, 12, 1, 28, 34, 64];

/**
 * The child: ignores the storm's signals (its own children inherit that),
 * exits 7 on SIGTERM, says `ready`, then forks processes that each leave an
 * orphan for pause to reap: `rounds` of them, then says `done` and waits; or,
 * given `seconds`, for that long and then exits 7.
 */
const childScript = (limit: { rounds: number } | { seconds: number }): string => String.raw`
$SIG{$_} = 'IGNORE' for qw(USR1 USR2 HUP WINCH RTMIN RTMAX), map { "NUM$_" } 35 .. 63;
$SIG{TERM} = sub { exit 7 };
$| = 1;
print "ready\n";
use Time::HiRes qw(time);
my ($rounds, $end) = (${'rounds' in limit ? limit.rounds : 1e9}, time + ${'seconds' in limit ? limit.seconds : 60});
for (my $i = 0; $i < $rounds && time < $end; $i++) {
  my $pid = fork;
  next unless defined $pid; # EINTR or EAGAIN: not the point here
  if ($pid == 0) { fork; exit 0 }
  waitpid $pid, 0;
}
exit 7 if ${'seconds' in limit ? 1 : 0};
print "done\n";
sleep 1 while 1;
`;

/** Sends up to `max` signals to `pid`, round robin; stops when pid is gone. Prints how many it sent. */
const SENDER = String.raw`
my ($pid, $max, @signals) = @ARGV;
my $sent = 0;
for (my $i = 0; $i < $max; $i++) {
  if (kill $signals[$i % @signals], $pid) { $sent++ } elsif ($!{ESRCH}) { last }
}
print "$sent\n";
`;

function storm(pid: number, max: number): Started {
  return start('perl', ['-e', SENDER, String(pid), String(max), ...STORM_SIGNALS.map(String)]);
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

describe.each([['not PID 1', false], ['PID 1', true]] as const)('%s', (_, asPid1) => {
  test('a child that exits during a storm: pause exits with its status', async () => {
    const { pause, pid } = await launch(asPid1, childScript({ seconds: 0.2 }));
    await waitFor('the child', () => pause.stdout().includes('ready'));
    // The storm does not end by itself: the sender stops only once pause is
    // gone. Real-time signals queue, and a thread that takes them runs
    // nothing but libuv's signal handler while any is pending; pause keeps its
    // main thread out of that (src/init.ts), so it sees the exit and leaves in
    // the middle of the storm, as tini does.
    const unbounded = 100_000_000;
    const sender = storm(pid, unbounded);
    expect(await pause.exited).toEqual({ code: 7, signal: null });
    await sender.exited;
    const sent = Number(sender.stdout());
    expect(sent).toBeGreaterThan(10_000);
    expect(sent).toBeLessThan(unbounded);
  });

  test('after a storm while orphans come and go, no zombie is left', async () => {
    const { pause, pid } = await launch(asPid1, childScript({ rounds: 3000 }));
    await waitFor('the child', () => pause.stdout().includes('ready'));
    const sender = storm(pid, 50_000);
    await sender.exited;
    await waitFor('the child to finish its rounds', () => pause.stdout().includes('done'), 60_000);
    expect(Number(sender.stdout())).toBe(50_000);
    await waitFor('no zombie among pause\'s children', () => childrenOf(pid).filter(isZombie).length === 0);
    process.kill(pid, 'SIGTERM');
    expect(await pause.exited).toEqual({ code: 7, signal: null });
  });
});
