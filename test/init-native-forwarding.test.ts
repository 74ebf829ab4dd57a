// Init mode's native forwarding (scripts/native-forwarder.ts, src/forwarder.ts):
// pause's own thread waits for the forwarded signals as tini does and sends
// them on without the event loop; Node's threads block them from the start,
// and one that the kernel hands a signal before that sends it from the
// handler, and stops taking them. Each test runs the
// built executable (or a test build of it) and reads the kernel's own view of
// its threads in /proc.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readyPid, REPORTER } from './helpers/children.ts';
import { PAUSE, ROOT } from './helpers/paths.ts';
import { foreignProcUnshareArgs } from './helpers/pid1.ts';
import { childrenOf, killTree, onCleanup, readProc, run, start, waitFor, type Started } from './helpers/process.ts';

/** <asm/unistd_64.h>, <asm-generic/unistd.h>: what /proc/PID/task/TID/syscall names, and tgkill for perl. */
const SYSCALLS = { x64: { rt_sigtimedwait: 128, futex: 202, tgkill: 234 }, arm64: { rt_sigtimedwait: 137, futex: 98, tgkill: 131 } }[arch() as 'x64' | 'arm64'];

const SIGUSR2 = 12;
/** A few of the forwarded signals, standard and real-time. */
const SOME_FORWARDED = [1, 10, 12, 15, 28, 34, 40, 64];
/** Node's own threads, as /proc names them: V8's worker and its delayed-task thread. */
const NODE_THREAD = /^(node-|DelayedTaskSche)/;

interface Reporting { readonly pause: Started; readonly child: number }

async function startReporter(executable: string, flags: readonly string[] = []): Promise<Reporting> {
  const pause = start(executable, [...flags, '--', 'perl', '-e', REPORTER]);
  const child = await waitFor('the child to be ready', () => readyPid(pause.stdout()));
  onCleanup(() => killTree(pause.pid));
  return { pause, child };
}

async function waitForReport({ pause, child }: Reporting, signo: number): Promise<void> {
  await waitFor(`the child to report signal ${signo}`, () => pause.stdout().includes(`child ${child} got ${signo}\n`));
}

/** pause's threads: tid, name, and the number of the system call each is in (or -1 when running). */
function threads(pid: number): { tid: number; name: string; syscall: number }[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => ({
    tid: Number(tid),
    name: (readProc(`/proc/${pid}/task/${tid}/comm`) ?? '').trim(),
    syscall: Number((readProc(`/proc/${pid}/task/${tid}/syscall`) ?? '-1').split(' ')[0]),
  }));
}

/** The signals thread `tid` blocks (SigBlk of its status). */
function blocked(pid: number, tid: number): bigint {
  const line = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readProc(`/proc/${pid}/task/${tid}/status`) ?? '');
  return BigInt(`0x${line?.[1] ?? '0'}`);
}
const bit = (signo: number) => 1n << BigInt(signo - 1);

describe('the executable', () => {
  it('one thread of pause\'s own waits in rt_sigtimedwait, and the signals it takes reach the command', async () => {
    const reporting = await startReporter(PAUSE);
    const waiting = await waitFor('a thread in rt_sigtimedwait', () =>
      threads(reporting.pause.pid).find((thread) => thread.syscall === SYSCALLS.rt_sigtimedwait));
    // Named after its maker, the main thread, as ps -L shows it.
    expect(waiting.name).toBe('pause');
    for (const signo of SOME_FORWARDED) {
      process.kill(reporting.pause.pid, signo);
      await waitForReport(reporting, signo);
    }
  });

  // pause queues each of them one signal of its own (src/forwarder.ts's
  // prime); without it they leave the signals open until the kernel hands
  // them one, and no signal is sent here.
  it('Node\'s threads block every forwarded signal from the start, before any is sent', async () => {
    // --verbose: each signal the code sends is logged.
    const reporting = await startReporter(PAUSE, ['--verbose']);
    const pid = reporting.pause.pid;
    const nodes = threads(pid).filter((thread) => NODE_THREAD.test(thread.name));
    expect(nodes.length).toBeGreaterThan(0);
    for (const { tid, name } of nodes) {
      await waitFor(`${name} to block the forwarded signals`, () => SOME_FORWARDED.every((signo) => (blocked(pid, tid) & bit(signo)) !== 0n));
    }
    // pause's own signal (SIGWINCH) is not the command's: a signal sent
    // after it is the first one forwarded.
    process.kill(pid, SIGUSR2);
    await waitForReport(reporting, SIGUSR2);
    expect(reporting.pause.stderr().split('\n').filter((line) => line.startsWith('pause: forwarded'))).toEqual([`pause: forwarded SIGUSR2 to pid ${reporting.child}`]);
  });
});

// The handler's own path: with a /proc of another PID namespace pause reads
// no thread list, so Node's threads are not primed and take signals until
// their first. tgkill: the signal is that thread's alone, as the kernel may
// hand a process's signal to any thread that leaves it open.
it('unprimed (a /proc not its own), a thread of Node\'s handed a signal sends it on, then blocks every forwarded signal', async () => {
  const unshared = start('unshare', [...foreignProcUnshareArgs(), PAUSE, '--', 'perl', '-e', REPORTER]);
  onCleanup(() => killTree(unshared.pid));
  const child = await waitFor('the child to be ready', () => readyPid(unshared.stdout()));
  const [pid = 0] = childrenOf(unshared.pid);
  const worker = threads(pid).find((thread) => thread.name === 'node-V8Worker');
  expect(worker).toBeDefined();
  const tid = worker?.tid ?? 0;
  expect(blocked(pid, tid) & bit(SIGUSR2)).toBe(0n);
  execFileSync('perl', ['-e', `syscall(${SYSCALLS.tgkill}, ${pid}, ${tid}, ${SIGUSR2}) == 0 or die "tgkill: $!"`]);
  await waitForReport({ pause: unshared, child }, SIGUSR2);
  await waitFor('the worker to block the forwarded signals', () => SOME_FORWARDED.every((signo) => (blocked(pid, tid) & bit(signo)) !== 0n));
});

// The code kills, then passes a told signal (SIGTERM) on to libuv; the
// command dies of it and its SIGCHLD can reach the loop's pipe first (seen in
// 1 of 150 runs before the supervisor caught up with the block at the exit).
// Repeated: the log and the grace period's clock must have the SIGTERM every time.
it('a SIGTERM the command dies of is logged as forwarded before its exit, every time', async () => {
  for (let run = 0; run < 40; run++) {
    const pause = start(PAUSE, ['--verbose', '--', 'sleep', '100']);
    await waitFor('native forwarding', () => pause.stderr().includes('signals are forwarded by native code'));
    process.kill(pause.pid, 'SIGTERM');
    expect((await pause.exited).code).toBe(143);
    const lines = pause.stderr().split('\n');
    const forwarded = lines.findIndex((line) => line.startsWith('pause: forwarded SIGTERM to pid '));
    expect(forwarded, `run ${run}:\n${pause.stderr()}`).toBeGreaterThan(-1);
    expect(forwarded).toBeLessThan(lines.findIndex((line) => line.startsWith('pause: command exited')));
  }
});

describe('a build whose main thread stops once the command runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pause-stuck-'));
  const STAGED = 'pause-stuck-main-thread';
  const stuck = join(dir, STAGED);
  beforeAll(async () => {
    const built = await run('npx', ['tsx', 'scripts/build.ts', '--entry', 'test/fixtures/stuck-main-thread.ts', '--out', stuck], { cwd: ROOT });
    if (built.code !== 0) throw new Error(`the test build failed: ${built.stderr}`);
  }, 300_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(ROOT, 'build', arch(), STAGED), { recursive: true, force: true });
  });

  it('every signal still reaches the command: the event loop is not on the way', async () => {
    const reporting = await startReporter(stuck);
    const pid = reporting.pause.pid;
    await waitFor('the main thread to wait for good', () => threads(pid).find((thread) => thread.tid === pid)?.syscall === SYSCALLS.futex);
    for (const signo of SOME_FORWARDED) {
      process.kill(pid, signo);
      await waitForReport(reporting, signo);
    }
  });
});
