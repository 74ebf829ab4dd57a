// Too few tasks (RLIMIT_NPROC, a pids cgroup): a command that cannot be
// forked is said to be so, in one line, exit 1; no room for pause's signal
// thread, one warning. Below the count Node itself
// needs (3: main thread, DelayedTaskScheduler, one V8 platform worker), Node
// waits for a worker that could not be made, before pause's first line runs:
// the tests prove that number, as README.md's limitations state it.
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { onCleanup, readProc, run, start, taskIds, tryKill, waitFor } from './helpers/process.ts';
import { missingCommands } from './helpers/requires.ts';
import { isPauseModeReady } from './helpers/pid1.ts';

const FORK_FAILED = 'pause: cannot start /bin/true: fork: resource temporarily unavailable\n';
const THREAD_WARNING = "pause: cannot start a thread to take signals (resource temporarily unavailable): a flood of SIGUSR1 may delay the command's exit being seen\n";
const isRoot = process.getuid?.() === 0;
const skip = missingCommands(['setpriv', 'prlimit']) || (!isRoot && 'needs root (setpriv, cgroups)');

/** A uid that no process runs as: RLIMIT_NPROC counts every task of the real uid. */
function unusedUid(): number {
  const used = new Set(readdirSync('/proc').filter((e) => /^\d+$/.test(e))
    .map((pid) => /^Uid:\s*(\d+)/m.exec(readProc(`/proc/${pid}/status`) ?? '')?.[1]));
  for (let uid = 61_800; uid < 62_000; uid++) if (!used.has(String(uid))) return uid;
  throw new Error('no unused uid in 61800..61999');
}

/** `dist/pause args` as an unused uid limited to `tasks` processes (threads count). */
function asLimitedUser(tasks: number, args: readonly string[]): [string, string[]] {
  const uid = String(unusedUid());
  return ['setpriv', ['--reuid', uid, '--regid', uid, '--clear-groups', 'prlimit', `--nproc=${tasks}`, PAUSE, ...args]];
}

/**
 * Proves pid stuck in Node's start-up with `tasks` tasks: pause's first act
 * (naming the main thread `pause`) never happened, the main thread sleeps on
 * a futex, and a look a second later finds it as it was, not one context
 * switch further. Looked at until two such looks agree (a busy machine may
 * catch it on its way there), within a deadline.
 */
async function expectStuckInNodeStartup(pid: number, tasks: number): Promise<void> {
  const look = () => ({
    tasks: taskIds(pid).length,
    comm: readProc(`/proc/${pid}/comm`)?.trim(),
    wchan: readProc(`/proc/${pid}/wchan`)?.startsWith('futex') ? 'futex' : readProc(`/proc/${pid}/wchan`),
    switches: /^voluntary_ctxt_switches:\s*(\d+)$/m.exec(readProc(`/proc/${pid}/status`) ?? '')?.[1],
  });
  const stuck = { tasks, comm: 'node-MainThread', wchan: 'futex' };
  let last = look();
  for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
    await sleep(1000); // an observation over time, not a synchronisation: a hang has no event to wait for
    const now = look();
    if (JSON.stringify(now) === JSON.stringify(last) && now.switches !== undefined) {
      expect(now).toMatchObject(stuck);
      return;
    }
    last = now;
  }
  throw new Error(`pid ${pid} never stood still in 20 s: last seen ${JSON.stringify(last)}, expected ${JSON.stringify(stuck)}`);
}

describe.skipIf(skip)('RLIMIT_NPROC (prlimit --nproc, unprivileged uid)', () => {
  it('3 tasks: pause runs, the command cannot be forked: one line, exit 1', async () => {
    const [command, args] = asLimitedUser(3, ['--', '/bin/true']);
    const result = await run(command, args);
    expect(result).toMatchObject({ code: 1, stderr: FORK_FAILED });
  });

  // No room left for pause's forwarding thread (src/init.ts forwardNatively):
  // the command runs, one line says what is weaker, SIGUSR1 still reaches it.
  it('4 tasks: the command runs; one warning, and SIGUSR1 is still forwarded', async () => {
    const [command, args] = asLimitedUser(4, ['--', 'perl', '-e', '$| = 1; print "ready\\n"; sleep 30']);
    const pause = start(command, args);
    await waitFor('the child to start', () => pause.stdout().includes('ready'));
    pause.child.kill('SIGUSR1');
    expect(await pause.exited).toEqual({ code: 128 + 10, signal: null });
    expect(pause.stderr()).toBe(THREAD_WARNING);
  });

  it('5 tasks: the command runs, and nothing is said', async () => {
    const [command, args] = asLimitedUser(5, ['--', '/bin/true']);
    expect(await run(command, args)).toMatchObject({ code: 0, stderr: '' });
  });

  it('2 tasks: Node waits for its platform worker for ever, before pause runs', async () => {
    const [command, args] = asLimitedUser(2, ['--', '/bin/true']);
    const started = start(command, args);
    await expectStuckInNodeStartup(started.pid, 2);
  });
});

/** The pids cgroup (v1 or v2) of this process, or null. */
function ownPidsCgroup(): string | null {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  const v1 = lines.find((line) => /^\d+:pids:/.test(line));
  if (v1) return join('/sys/fs/cgroup/pids', v1.slice(v1.indexOf(':pids:') + 6));
  const v2 = lines.find((line) => line.startsWith('0::'));
  const dir = v2 ? join('/sys/fs/cgroup', v2.slice(3)) : null;
  return dir && (readProc(join(dir, 'cgroup.subtree_control')) ?? '').includes('pids') ? dir : null;
}

const cgroupParent = isRoot ? ownPidsCgroup() : null;

/** A child of the test's own pids cgroup allowing `tasks`; removed after the test. */
function limitedCgroup(tasks: number): string {
  const dir = join(cgroupParent ?? '', `pause-tasks-${process.pid}-${tasks}`);
  mkdirSync(dir);
  writeFileSync(join(dir, 'pids.max'), String(tasks));
  onCleanup(async () => {
    for (const pid of (readProc(join(dir, 'cgroup.procs')) ?? '').split('\n').filter(Boolean)) tryKill(Number(pid), 'SIGKILL');
    await waitFor(`${dir} to empty`, () => (readProc(join(dir, 'cgroup.procs')) ?? '').trim() === '');
    rmdirSync(dir);
  });
  return dir;
}

/** Starts `dist/pause args` in `cgroup`: a shell moves itself there, then execs pause. */
function startIn(cgroup: string, args: readonly string[]) {
  return start('sh', ['-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', cgroup, PAUSE, ...args]);
}

/** How many forks the cgroup refused (pids.events `max`). */
function refusedForks(cgroup: string): number {
  return Number(/^max (\d+)$/m.exec(readProc(join(cgroup, 'pids.events')) ?? '')?.[1] ?? 0);
}

describe.skipIf(skip || !cgroupParent)('a pids cgroup limit on the test\'s own cgroup', () => {
  it('pids.max 3, init mode: the command cannot be forked: one line, exit 1', async () => {
    const cgroup = limitedCgroup(3);
    const started = startIn(cgroup, ['--', '/bin/true']);
    expect(await started.exited).toEqual({ code: 1, signal: null });
    expect(started.stderr()).toBe(FORK_FAILED);
    expect(refusedForks(cgroup)).toBeGreaterThan(0);
  });

  it('pids.max 3, pause mode: ready', async () => {
    const started = startIn(limitedCgroup(3), []);
    await waitFor('pause mode to be ready', () => isPauseModeReady(started.pid));
  });

  it('pids.max 2, pause mode: Node waits for its platform worker for ever, before pause runs', async () => {
    const cgroup = limitedCgroup(2);
    const started = startIn(cgroup, []);
    await expectStuckInNodeStartup(started.pid, 2);
    expect(refusedForks(cgroup)).toBeGreaterThan(0);
  });
});
