// Init mode: the child starts with a clean slate (src/libc.ts spawn): no
// signal ignored, blocked or caught, only the descriptors meant for it, stdio
// untouched, and exactly the environment and working directory pause got.
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { execedChild } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { readProc, run, start, statusField, waitFor, type Started } from './helpers/process.ts';
import type { SpawnOptions } from 'node:child_process';

/** pause running `sleep 100`, and the sleep's pid once it has exec'd and gone to sleep. */
async function pauseWithSleep(options: SpawnOptions = {}, flags: readonly string[] = []): Promise<{ pause: Started; child: number }> {
  const pause = start(PAUSE, [...flags, '--', 'sleep', '100'], options);
  const child = await execedChild(pause.pid, 'sleep');
  // Right after the exec the dynamic loader holds ld.so.cache and the
  // libraries open, on the lowest free descriptors: only once sleep sleeps
  // (state S, in nanosleep) are its descriptors the ones pause gave it.
  await waitFor(`sleep ${child} to be asleep`, () => statusField(child, 'State')?.startsWith('S'));
  return { pause, child };
}

const openFds = (pid: number): number[] => readdirSync(`/proc/${pid}/fd`).map(Number).sort((a, b) => a - b);

/** The `flags` of /proc/PID/fdinfo/FD, without O_CLOEXEC (a property of the descriptor, not of the open file). */
function fileStatusFlags(pid: number, fd: number): number {
  const O_CLOEXEC = 0o2000000;
  const match = /^flags:\s*([0-7]+)$/m.exec(readProc(`/proc/${pid}/fdinfo/${fd}`) ?? '');
  if (!match?.[1]) throw new Error(`no fdinfo for fd ${fd} of ${pid}`);
  return Number.parseInt(match[1], 8) & ~O_CLOEXEC;
}

const tmp = mkdtempSync(join(tmpdir(), 'pause-child-state-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test.each(['SigIgn', 'SigBlk', 'SigCgt'])('%s of a child that installs nothing is 0', async (field) => {
  const { child } = await pauseWithSleep({}, ['--verbose']);
  expect(statusField(child, field)).toBe('0000000000000000');
});

test('the child holds only 0, 1 and 2, even when pause was started with more', async () => {
  const { pause, child } = await pauseWithSleep({ stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
  expect(openFds(pause.pid)).toEqual(expect.arrayContaining([3, 4]));
  expect(openFds(child)).toEqual([0, 1, 2]);
});

test('LISTEN_FDS=2 passes exactly descriptors 3 and 4', async () => {
  const env = { ...process.env, LISTEN_FDS: '2' };
  const { pause, child } = await pauseWithSleep({ env, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
  expect(openFds(pause.pid)).toEqual(expect.arrayContaining([3, 4, 5]));
  expect(openFds(child)).toEqual([0, 1, 2, 3, 4]);
});

// Node makes the pipes it reads from non-blocking; were pause to do that to
// its stdio, every other writer of the same open file (the child first) would
// see EAGAIN. Compared with the same stdio given to sleep directly.
test('the file status flags of stdio are those the test gave, O_NONBLOCK not among them', async () => {
  const O_NONBLOCK = 0o4000;
  const direct = start('sleep', ['100'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const expected = [0, 1, 2].map((fd) => fileStatusFlags(direct.pid, fd));
  // --verbose: pause writes its log to the same stderr.
  const { pause, child } = await pauseWithSleep({ stdio: ['pipe', 'pipe', 'pipe'] }, ['--verbose']);
  await waitFor('pause to log the spawn', () => pause.stderr().includes('started sleep'));
  const flags = [0, 1, 2].map((fd) => fileStatusFlags(child, fd));
  expect(flags).toEqual(expected);
  expect(flags.filter((f) => (f & O_NONBLOCK) !== 0)).toEqual([]);
});

test('the child\'s environment is byte for byte the one pause got', async () => {
  const env = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    NODE_OPTIONS: '--require /nonexistent.js --max-old-space-size=1',
    PAUSE_GRACE_PERIOD: '1',
    PAUSE_VERBOSE: '0',
    UNICODE: 'é ü 💥',
    EMPTY: '',
    'WITH=EQUALS': 'a=b',
    SPACES: '  x  ',
  };
  const { pause, child } = await pauseWithSleep({ env });
  const expected = Buffer.from(Object.entries(env).map(([k, v]) => `${k}=${v}\0`).join(''));
  expect(readFileSync(`/proc/${pause.child.pid}/environ`)).toEqual(expected);
  expect(readFileSync(`/proc/${child}/environ`)).toEqual(expected);
});

test('the child runs in the working directory pause was started in', async () => {
  const { child } = await pauseWithSleep({ cwd: tmp });
  expect(readlinkSync(`/proc/${child}/cwd`)).toBe(realpathSync(tmp));
});

test('the child\'s stdout and stderr reach pause\'s, and its stdin is pause\'s', async () => {
  const pause = start(PAUSE, ['--', 'sh', '-c', 'read line; echo "out $line"; echo "err $line" >&2'], { stdio: ['pipe', 'pipe', 'pipe'] });
  pause.child.stdin?.end('hello\n');
  expect(await pause.exited).toEqual({ code: 0, signal: null });
  expect(pause.stdout()).toBe('out hello\n');
  expect(pause.stderr()).toBe('err hello\n');
});

test('a child writing a lot to stdout is read whole', async () => {
  const result = await run(PAUSE, ['--', 'sh', '-c', 'seq 1 100000']);
  expect(result.code).toBe(0);
  expect(result.stdout.split('\n')).toHaveLength(100_001);
});
