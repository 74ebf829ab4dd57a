// The behavioural core, run against the arm64 image's bundle (/pause.ts, an
// AArch64 executable with its own AArch64 loader and libraries) under
// qemu-user, as PID 1 of a new PID namespace whose root holds the bundle and
// busybox-static.
//
// The commands pause runs are this machine's x86-64 busybox, not arm64 ones:
// the kernel picks per exec (binfmt_misc sends AArch64 ELF files to
// qemu-aarch64, runs x86-64 ones natively), so pause's own code — its libc
// calls through node:ffi, its signal handling, spawn, waitpid and kill — is
// all AArch64 under emulation, while the child is a plain native process whose
// state the host's /proc shows truthfully (a trap shows as SigCgt). An
// emulated child would add nothing about pause and hide the child's state
// behind qemu's own signal handlers.
//
// Where qemu-user differs from an arm64 kernel, the test asserts the
// difference instead of skipping it (see "Under qemu-user" in docs/image.md).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNamespaceArgs, unshareArgs } from '../helpers/pid1.ts';
import { catches, childrenOf, exeOf, ignores, isZombie, killTree, namespaceProcesses, onCleanup, readProc, run, start, statusField, waitFor, type Started } from '../helpers/process.ts';
import { skipUnless, uniqueName } from './helpers/containers.ts';
import { pod, podQuiet } from './helpers/engine.ts';
import { ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE_ARM64 } from './helpers/images.ts';
import { ensureArm64Emulation } from './helpers/qemu.ts';
import { BUNDLE_EXE, busyboxRoot, removeRoot } from './helpers/roots.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf', 'busybox', 'unshare', 'nsenter', 'qemu-aarch64-static', 'update-binfmts'])
  || ensureArm64Emulation();
if (skip) process.stderr.write(`arm64 behavioural core skipped: ${skip}\n`);

const QEMU = '/usr/bin/qemu-aarch64-static';
let work = '';
let root = '';

/** The arm64 image's /pause.ts in a busybox root (with /dev/null: busybox sh opens it for `cmd &`). */
function makeRoot(): void {
  work = mkdtempSync('/var/tmp/pause-arm64-core-');
  const name = uniqueName('arm64-core');
  pod(['create', '--name', name, PAUSE_IMAGE_ARM64]);
  try {
    pod(['cp', `${name}:/pause.ts`, join(work, 'pause.ts')]);
  } finally {
    podQuiet(['rm', '--force', name]);
  }
  root = busyboxRoot(join(work, 'root'), join(work, 'pause.ts'));
  mkdirSync(join(root, 'dev'));
  execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']); // <linux/major.h>: MEM_MAJOR 1, minor 3
}

/**
 * The emulated pause: its host pid once qemu runs the bundle. With --fork,
 * unshare's child execs it; without, unshare itself does.
 */
async function startEmulated(unshare: readonly string[], args: readonly string[]): Promise<Started & { inner: number }> {
  const started = start('unshare', [...unshare, `--root=${root}`, BUNDLE_EXE, ...args]);
  onCleanup(() => killTree(started.pid));
  const inner = await waitFor('qemu-aarch64 to run the bundle', () => {
    return [started.pid, ...childrenOf(started.pid)].find((pid) => exeOf(pid) === QEMU);
  }, 30_000);
  return Object.assign(started, { inner });
}
const asPid1 = (args: readonly string[]) => startEmulated(unshareArgs(), args);

/** The command pause started: its only child whose command line starts with `sh`. */
const commandOf = (pause: number) => waitFor('the command to start', () => childrenOf(pause).find((pid) => readProc(`/proc/${pid}/cmdline`)?.startsWith('sh\0')), 30_000);

/** Waits for pause's exit and gives its status and stderr. */
async function outcome(started: Started): Promise<{ code: number | null; stderr: string }> {
  const { code } = await started.exited;
  return { code, stderr: started.stderr() };
}

describe.skipIf(skip)('the arm64 bundle under qemu-user', () => {
  beforeAll(() => {
    ensureImages('arm64');
    makeRoot();
  }, IMAGES_TIMEOUT_MS);
  afterAll(() => { if (work) removeRoot(work); });

  it('is an AArch64 executable that the kernel hands to qemu-aarch64, while the command runs natively', async () => {
    expect(execFileSync('readelf', ['--file-header', join(root, BUNDLE_EXE)], { encoding: 'utf8' })).toMatch(/Machine:\s+AArch64/);
    const pause = await asPid1(['--', 'sh', '-c', 'while :; do sleep 1; done']);
    const command = await commandOf(pause.inner);
    expect({ pause: exeOf(pause.inner), arguments: readProc(`/proc/${pause.inner}/cmdline`)?.split('\0').slice(1, 3), command: exeOf(command) })
      .toEqual({ pause: QEMU, arguments: [BUNDLE_EXE, BUNDLE_EXE], command: join(root, 'bin/busybox') });
  });

  describe('init mode as PID 1', () => {
    it('exits with the command\'s exit status', async () => {
      expect(await outcome(await asPid1(['--', 'sh', '-c', 'exit 7']))).toEqual({ code: 7, stderr: '' });
    });

    it.each([['KILL', 9], ['TERM', 15]])('exits 128+N when the command is killed by SIG%s', async (name, number) => {
      expect((await outcome(await asPid1(['--', 'sh', '-c', `kill -${name} $$; sleep 10`]))).code).toBe(128 + number);
    });

    it.each([['SIGTERM', 15, 42], ['SIGUSR1', 10, 43]] as const)('forwards %s to the command', async (signal, number, code) => {
      const pause = await asPid1(['--', 'sh', '-c', `trap 'exit ${code}' ${signal.slice(3)}; while :; do sleep 0.1; done`]);
      const command = await commandOf(pause.inner);
      await waitFor('the command\'s trap', () => catches(command, number), 30_000);
      process.kill(pause.inner, signal);
      expect(await outcome(pause)).toEqual({ code, stderr: '' });
    });

    it('reaps an orphan the command leaves: re-parented to pause, then gone, not a zombie', async () => {
      const pause = await asPid1(['--', 'sh', '-c', '(sleep 3 &); exec sleep 60']);
      const orphan = await waitFor('the orphan, re-parented to pause', () => childrenOf(pause.inner)
        .find((pid) => readProc(`/proc/${pid}/cmdline`) === 'sleep\x003\0'), 30_000);
      expect(statusField(orphan, 'PPid')).toBe(String(pause.inner));
      // Gone from /proc altogether: pause waited for it. A zombie would stay, state Z.
      await waitFor('the orphan to be reaped', () => readProc(`/proc/${orphan}/stat`) === undefined || (isZombie(orphan) ? undefined : false), 30_000)
        .catch(() => expect.fail(`orphan ${orphan} is ${isZombie(orphan) ? 'a zombie' : 'still running'}`));
      process.kill(pause.inner, 'SIGTERM');
      expect((await outcome(pause)).code).toBe(143);
    });

    it('winds down what is left when the command exits: SIGTERM to the leftover, then the command\'s status', async () => {
      const leftover = 'trap "echo got SIGTERM > /tmp/wound-down; exit 0" TERM; touch /tmp/leftover-ready; while :; do sleep 0.1; done';
      const pause = await asPid1(['--grace-period', '20', '--', 'sh', '-c',
        `rm -f /tmp/wound-down /tmp/leftover-ready; sh -c '${leftover}' & while [ ! -e /tmp/leftover-ready ]; do sleep 0.05; done; exit 5`]);
      // The leftover's own `sleep` gets the SIGTERM too: its shell reports it ("Terminated") on stderr.
      expect((await outcome(pause)).code).toBe(5);
      expect(readFileSync(join(root, 'tmp/wound-down'), 'utf8')).toBe('got SIGTERM\n');
    });
  });

  describe('pause mode as PID 1', () => {
    it('exits 0 on SIGTERM with its message', async () => {
      const pause = await asPid1([]);
      await waitFor('pause mode to set SIGCHLD to SIG_IGN', () => ignores(pause.inner, 17), 30_000);
      // Its SIGTERM handler is set before SIGCHLD's: signals are set in order.
      process.kill(pause.inner, 'SIGTERM');
      expect(await outcome(pause)).toEqual({ code: 0, stderr: 'Shutting down, got signal: Terminated\n' });
    });

    it('leaves orphans to the kernel to reap (SIGCHLD set to SIG_IGN): none stays a zombie', async () => {
      const pause = await asPid1([]);
      await waitFor('pause mode to set SIGCHLD to SIG_IGN', () => ignores(pause.inner, 17), 30_000);
      const before = namespaceProcesses(pause.inner).length;
      const [command, args] = inNamespaceArgs(pause.inner, 'i=0; while [ $i -lt 100 ]; do ( sleep 0.1 & ); i=$((i + 1)); done');
      expect((await run(command, args)).code).toBe(0);
      const after = await waitFor('the orphans to be gone', () => {
        const now = namespaceProcesses(pause.inner);
        return now.length === before && !now.some((p) => p.state === 'Z') ? now : undefined;
      }, 20_000).catch(() => namespaceProcesses(pause.inner));
      expect(after.filter((p) => p.state === 'Z')).toEqual([]);
      expect(after).toHaveLength(before);
    });
  });

  describe('where qemu-user differs from an arm64 kernel', () => {
    // qemu-aarch64 7.2 answers prctl(PR_SET_CHILD_SUBREAPER) with EINVAL (the
    // kernel has had it since 3.4): not as PID 1, pause cannot adopt the
    // command's orphans there. It must say so in its one line and carry on.
    // qemu-user maps the host's real-time signals 34..64 to the guest's 32..62:
    // the guest's 32 and 33 are glibc's own (cancellation, setxid), so the
    // host's SIGRTMIN and SIGRTMIN+1 never reach pause's handlers, and the
    // guest's 63 and 64 do not exist. The others are forwarded as sent (qemu
    // maps the number back on kill), but pause's log names them two lower.
    // An arm64 kernel has none of this: there pause sees the signals as sent.
    it('forwards the host\'s SIGRTMAX as SIGRTMAX, logged by the guest\'s name for it, SIGRTMIN+28', async () => {
      const pause = await asPid1(['--verbose', '--', 'sh', '-c', "trap 'exit 64' 64; while :; do sleep 0.1; done"]);
      const command = await commandOf(pause.inner);
      await waitFor('the command\'s trap', () => catches(command, 64), 30_000);
      process.kill(pause.inner, 64);
      const { code, stderr } = await outcome(pause);
      expect(code).toBe(64);
      expect(stderr).toContain('pause: forwarded SIGRTMIN+28 to pid ');
    });

    it('does not forward the host\'s SIGRTMIN+1 (35): glibc in the guest takes it as its setxid signal, and pause carries on', async () => {
      const pause = await asPid1(['--verbose', '--', 'sh', '-c', "trap 'exit 35' 35; trap 'exit 10' USR1; while :; do sleep 0.1; done"]);
      const command = await commandOf(pause.inner);
      await waitFor('the command\'s traps', () => catches(command, 35) && catches(command, 10), 30_000);
      process.kill(pause.inner, 35);
      // Taken from the kernel by qemu, whatever it then does with it; only then SIGUSR1, which is forwarded.
      await waitFor('qemu to take signal 35', () => (BigInt(`0x${statusField(pause.inner, 'ShdPnd') ?? '0'}`) & (1n << 34n)) === 0n, 30_000);
      process.kill(pause.inner, 'SIGUSR1');
      const { code, stderr } = await outcome(pause);
      expect(code).toBe(10);
      expect(stderr.split('\n').filter((line) => line.startsWith('pause: forwarded '))).toEqual([expect.stringMatching(/^pause: forwarded SIGUSR1 to pid \d+$/)]);
    });

    // Seen by hand, and not made a test because it would have to wait for something not to happen:
    // after the host's 34 (the guest's 32), a later SIGUSR1 is not forwarded either.
    it.skip('forwards the host\'s SIGRTMIN (34): under qemu-user it arrives as glibc\'s cancellation signal (32) and pause forwards nothing after it', () => {});

    it('not as PID 1, the subreaper is refused, and pause says so in one line and still runs the command', async () => {
      const pause = await startEmulated(['--mount'], ['--', 'sh', '-c', 'exit 3']);
      const { code, stderr } = await outcome(pause);
      expect(code).toBe(3);
      expect(stderr.split('\n')).toContain('pause: not PID 1 and cannot register as child subreaper (invalid argument): orphans of the command will not be reaped by pause');
    });
  });
});
