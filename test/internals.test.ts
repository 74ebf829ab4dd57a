// src/internals.ts: Node's internal bindings that pause relies on, taken by the
// built executable on the pinned Node (the arm64 build: test/image/arm64.test.ts),
// and the public fallback, with its one line, when one is missing or reshaped.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAUSE, ROOT } from './helpers/paths.ts';
import { run, start, waitFor } from './helpers/process.ts';
import { execFileSync } from 'node:child_process';
import { isPauseModeReady } from './helpers/pid1.ts';

const BOTH_INTERNAL = "pause: Node's internal bindings ffi=internal signal_wrap=internal\n";
/** Node's own threads, each made to block the forwarded signals: V8's one worker (--v8-pool-size=1) and its delayed-task thread. */
const NODE_THREADS = 2;
/** The verbose line of native forwarding (src/init.ts) for `count` signals. */
const NATIVE = (count: number) => `pause: signals are forwarded by native code signals=${count} nodeThreadsClosed=${NODE_THREADS}\n`;
/** Every forwarded signal: 22 standard ones and the 31 real-time ones; the real-time ones need signal_wrap. */
const ALL_FORWARDED = 53;
const STANDARD_FORWARDED = 22;
const NODE = join(ROOT, 'node_modules', `node-linux-${process.arch}`, 'bin', 'node');
const TSX = join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');

/**
 * stderr without the lines every --verbose run has (subreaper, start, exit),
 * and the wind-down's: under tsx, a compile on a cold cache leaves tsx's
 * esbuild service running below pause.
 */
const unusual = (stderr: string): string => stderr.split('\n')
  .filter((line) => !/registered as child|started |command exited|exiting |to the processes that are left/.test(line)).join('\n');

describe('the executable', () => {
  it('takes both internal bindings, in the shape it checks, and says so under --verbose only', async () => {
    const verbose = await run(PAUSE, ['--verbose', '--', 'sh', '-c', 'exit 3']);
    expect(verbose.code).toBe(3);
    expect(unusual(verbose.stderr)).toBe(BOTH_INTERNAL + NATIVE(ALL_FORWARDED));
    expect(await run(PAUSE, ['--', 'sh', '-c', 'exit 3'])).toMatchObject({ code: 3, stderr: '' });
  });
});

// A test build whose entry first makes bindings missing or reshaped
// (test/fixtures/reshape-internals.ts), as a Node whose internals moved would.
// One name: the build keeps its staging directory per output name (build/ARCH/NAME).
const RESHAPED = join(ROOT, '.tmp', 'pause-reshaped');

describe('a build whose Node has moved its internals', () => {
  beforeAll(() => {
    execFileSync('npm', ['run', 'build', '--', '--entry', 'test/fixtures/reshaped-main.ts', '--out', RESHAPED], { cwd: ROOT, stdio: 'ignore' });
  }, 300_000);
  afterAll(() => rmSync(RESHAPED, { force: true }));

  const withBindings = (bindings: string) => ({ env: { ...process.env, PAUSE_TEST_BINDINGS: bindings } });
  const FFI_LINE = (how: string) => `pause: Node's internal ffi binding ${how} (Node ${process.version}): libc is called through node:ffi\n`;
  const SIGNAL_LINE = (how: string) =>
    `pause: Node's internal signal_wrap binding ${how} (Node ${process.version}): SIGRTMIN and above are ignored, not forwarded; the others go through process.on\n`;

  it.each([
    ['ffi=reshaped', FFI_LINE('is not in the shape pause knows'), 'ffi=reshaped signal_wrap=internal'],
    ['ffi=missing', FFI_LINE('is missing'), 'ffi=missing signal_wrap=internal'],
    ['signal_wrap=reshaped', SIGNAL_LINE('is not in the shape pause knows'), 'ffi=internal signal_wrap=reshaped'],
    ['signal_wrap=missing', SIGNAL_LINE('is missing'), 'ffi=internal signal_wrap=missing'],
  ])('init mode, %s: falls back with one line, and keeps the status', async (bindings, line, paths) => {
    const result = await run(RESHAPED, ['--', 'sh', '-c', 'exit 3'], withBindings(bindings));
    expect(result).toMatchObject({ code: 3, stderr: line });
    const verbose = await run(RESHAPED, ['--verbose', '--', 'sh', '-c', 'exit 3'], withBindings(bindings));
    const forwarded = paths.includes('signal_wrap=internal') ? ALL_FORWARDED : STANDARD_FORWARDED;
    expect(unusual(verbose.stderr)).toBe(`${line}pause: Node's internal bindings ${paths}\n${NATIVE(forwarded)}`);
  });

  it('pause mode, both reshaped: one line each, and SIGTERM still stops it', async () => {
    const pause = start(RESHAPED, [], withBindings('ffi=reshaped,signal_wrap=reshaped'));
    await waitFor('pause mode to be ready', () => isPauseModeReady(pause.pid));
    process.kill(pause.pid, 'SIGTERM');
    expect(await pause.exited).toEqual({ code: 0, signal: null });
    expect(pause.stderr()).toBe([
      'Warning: pause should be the first process',
      `pause: Node's internal ffi binding is not in the shape pause knows (Node ${process.version}): libc is called through node:ffi`,
      `pause: Node's internal signal_wrap binding is not in the shape pause knows (Node ${process.version}): SIGINT and SIGTERM are taken through process.on`,
      'Shutting down, got signal: Terminated\n',
    ].join('\n'));
  });

  // A listener that cannot be installed (libuv's start fails) is said in one line.
  it('init mode, no SIGCHLD listener: fatal before the command starts', async () => {
    const result = await run(RESHAPED, ['--', 'sh', '-c', 'echo ran'], withBindings('signal_wrap=failing'));
    expect(result).toMatchObject({ code: 1, stdout: '', stderr: 'pause: cannot listen to SIGCHLD: no exit of the command could be seen\n' });
  });

  it('pause mode, no SIGINT or SIGTERM listener: one line each', async () => {
    const pause = start(RESHAPED, [], withBindings('signal_wrap=failing'));
    await waitFor('pause mode to be ready', () => isPauseModeReady(pause.pid));
    // Written before it is ready, but read from the pipe by this process's
    // event loop, which may not have got to it yet (seen once in CI).
    await waitFor('its lines', () => pause.stderr().endsWith('SIGTERM: it will not stop pause\n'));
    expect(pause.stderr()).toBe([
      'Warning: pause should be the first process',
      'pause: cannot listen to SIGINT: it will not stop pause',
      'pause: cannot listen to SIGTERM: it will not stop pause\n',
    ].join('\n'));
  });

  it('with nothing changed, takes both internal bindings', async () => {
    const verbose = await run(RESHAPED, ['--verbose', '--', 'true'], withBindings(''));
    expect(unusual(verbose.stderr)).toBe(BOTH_INTERNAL + NATIVE(ALL_FORWARDED));
  });
});

describe('the sources under a bare node (no --expose-internals)', () => {
  // node itself has no native forwarding code (scripts/entry-stub.ts puts it in pause's executable).
  it('run on node:ffi and process.on, with the real-time line only; the listener forwards', async () => {
    const result = await run(NODE, ['--no-warnings', '--import', TSX, join(ROOT, 'src', 'main.ts'), '--verbose', '--', 'sh', '-c', 'exit 3']);
    expect(result.code).toBe(3);
    expect(unusual(result.stderr)).toBe([
      'pause: this build cannot listen to real-time signals: SIGRTMIN and above are ignored, not forwarded',
      "pause: Node's internal bindings ffi=not exposed signal_wrap=not exposed",
      'pause: signals are forwarded by the listener: this executable has no native forwarding code\n',
    ].join('\n'));
  });
});
