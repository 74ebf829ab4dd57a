// Init mode: the child starts with a clean slate (src/libc-spawn.ts spawn): no
// signal ignored, blocked or caught, every descriptor pause inherited and
// none of Node's (src/descriptors.ts), stdio untouched, and exactly the
// environment and working directory pause got.
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

/**
 * A python program that opens descriptors of the kinds named in argv[1]
 * (`3:pipe-read,4:socket,…`) at those numbers, closes every other above 2,
 * prints what it made (fd → the link and the flags in /proc/self/fdinfo) as
 * one JSON line, and execs the rest of argv with exactly those descriptors.
 */
const PASS_FDS = String.raw`
import fcntl, json, os, socket, sys, tempfile
made = {}
keep = []
def pipe(end, flags=0):
    r, w = os.pipe2(flags)
    keep.extend([r, w])
    return r if end == 'read' else w
def temp(mode):
    f = tempfile.TemporaryFile(mode)
    keep.append(f)
    return f.fileno()
def append_file():
    fd = os.open(tempfile.gettempdir(), os.O_TMPFILE | os.O_WRONLY)
    fcntl.fcntl(fd, fcntl.F_SETFL, os.O_APPEND)
    return fd
def sock():
    a, b = socket.socketpair()
    keep.extend([a, b])
    return a.fileno()
MAKERS = {
    'pipe-read': lambda: pipe('read'), 'pipe-write': lambda: pipe('write'),
    'nonblocking-pipe': lambda: pipe('read', os.O_NONBLOCK), 'socket': sock,
    'file': lambda: temp('w+b'), 'append-file': append_file,
    'devnull': lambda: os.open('/dev/null', os.O_RDWR),
}
wanted = [(int(n), kind) for n, kind in (item.split(':') for item in sys.argv[1].split(','))]
staged = [(n, MAKERS[kind]()) for n, kind in wanted]
high = [(n, os.dup2(fd, 500 + n)) for n, fd in staged]
os.closerange(3, 500)
for n, fd in high:
    os.dup2(fd, n)
os.closerange(500, 1024)
for n, _ in wanted:
    flags = int(open('/proc/self/fdinfo/%d' % n).read().split('flags:')[1].split()[0], 8)
    made[n] = {'link': os.readlink('/proc/self/fd/%d' % n), 'flags': flags}
print(json.dumps(made), flush=True)
os.execvp(sys.argv[2], sys.argv[2:])
`;

type Made = Record<string, { link: string; flags: number }>;

/** pause started by PASS_FDS with the descriptors `layout` names, running sleep; and what was made. */
async function pauseWithFds(layout: string, env: NodeJS.ProcessEnv = process.env) {
  const pause = start('python3', ['-c', PASS_FDS, layout, PAUSE, '--', 'sleep', '100'], { env });
  // python's start with its imports takes seconds on a loaded machine: a generous deadline.
  const made = await waitFor('python to make the descriptors and say so', () => pause.stdout().includes('\n') && (JSON.parse(pause.stdout()) as Made), 30_000);
  const child = await execedChild(pause.pid, 'sleep');
  await waitFor(`sleep ${child} to be asleep`, () => statusField(child, 'State')?.startsWith('S'), 30_000);
  return { pause, made, child };
}

const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;

test('descriptors 3-9 (pipes, a socket, files, one non-blocking) reach the child at their numbers with their flags; nothing else does', async () => {
  const layout = '3:pipe-read,4:pipe-write,5:socket,6:file,7:append-file,8:nonblocking-pipe,9:devnull';
  const { made, child } = await pauseWithFds(layout);
  expect(openFds(child)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  for (const [fd, { link, flags }] of Object.entries(made)) {
    expect(readlinkSync(`/proc/${child}/fd/${fd}`), `fd ${fd}`).toBe(link);
    // The parent's flags, apart from the close-on-exec mark Node added (none survives an exec anyway).
    expect(fileStatusFlags(child, Number(fd)), `fd ${fd}`).toBe(flags & ~O_CLOEXEC);
  }
  expect(fileStatusFlags(child, 8) & O_NONBLOCK).toBe(O_NONBLOCK);
});

// Node fills the gap (4-6) with its own descriptors, kinds it always makes:
// those stay out, the inherited one above them does not.
test('an inherited descriptor above a gap that Node filled reaches the child; Node\'s in the gap do not', async () => {
  const { pause, child } = await pauseWithFds('3:file,7:pipe-read');
  expect(openFds(pause.pid)).toEqual(expect.arrayContaining([4, 5, 6, 8]));
  expect(openFds(child)).toEqual([0, 1, 2, 3, 7]);
});

test('LISTEN_FDS=2 with descriptors 3 and 4: both reach the child, LISTEN_FDS and LISTEN_PID unchanged', async () => {
  const env = { ...process.env, LISTEN_FDS: '2', LISTEN_PID: '12345' };
  const { child } = await pauseWithFds('3:socket,4:socket', env);
  expect(openFds(child)).toEqual([0, 1, 2, 3, 4]);
  const environ = readFileSync(`/proc/${child}/environ`, 'latin1').split('\0');
  expect(environ).toEqual(expect.arrayContaining(['LISTEN_FDS=2', 'LISTEN_PID=12345']));
});

// Node makes the pipes it reads from non-blocking; were pause to do that to
// its stdio, every other writer of the same open file (the child first) would
// see EAGAIN. Compared with the same stdio given to sleep directly.
test('the file status flags of stdio are those the test gave, O_NONBLOCK not among them', async () => {
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
