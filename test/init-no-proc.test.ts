// Init mode without /proc (a chroot that has none, as in a minimal image):
// the command's exit status still comes out, as PID 1 and not; what pause
// cannot do without /proc it says in one log line, never an internal error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRoot } from './helpers/chroot.ts';
import { PAUSE } from './helpers/paths.ts';
import { onCleanup, run } from './helpers/process.ts';
import { missingCommands } from './helpers/requires.ts';

const skip = missingCommands(['busybox', 'readelf', 'chroot', 'unshare']);
let root = '';
let remove = (): void => {};

beforeAll(() => {
  if (skip) return;
  ({ root, remove } = makeRoot(PAUSE, 'pause', ['sleep']));
});
afterAll(() => remove());

/** pause in the chroot running `sh -c script`; as PID 1 of a new PID namespace when `pid1`. */
function runInRoot(script: string, pid1: boolean, flags: readonly string[] = []) {
  const chroot = ['chroot', root, '/pause', ...flags, '--', '/bin/sh', '-c', script];
  // No --mount-proc: the namespace's /proc is never mounted in the root.
  return pid1 ? run('unshare', ['--pid', '--fork', ...chroot]) : run(chroot[0] ?? '', chroot.slice(1));
}

/** The one line saying what pause could not do without /proc. */
const NO_PROC_LINE = /^pause: .*\/proc is not mounted: [^\n]*\n$/;

describe.skipIf(skip).each([['not PID 1', false], ['as PID 1', true]] as const)('without /proc, %s', (_, pid1) => {
  it('`exit 3` exits 3, with one log line', async () => {
    const result = await runInRoot('exit 3', pid1);
    expect(result.stderr).toMatch(NO_PROC_LINE);
    expect(result.code).toBe(3);
  });

  it('death by SIGTERM exits 143', async () => {
    const result = await runInRoot('kill -TERM $$', pid1);
    expect(result.stderr).toMatch(NO_PROC_LINE);
    expect(result.code).toBe(143);
  });

  // The wind-down: as PID 1 kill(-1) reaches everyone; otherwise the
  // command's process group, which the sleep is in. Either way the sleep
  // gets SIGTERM at once; were it not signalled, pause would wait out the
  // grace period of -t 1000 and the test would time out.
  it('a process left behind gets SIGTERM and the command\'s status comes out', async () => {
    const result = await runInRoot('sleep 1000 & exit 4', pid1, ['-t', '1000']);
    expect(result.stderr).toMatch(NO_PROC_LINE);
    expect(result.code).toBe(4);
  });
});

// A /proc of the parent PID namespace (`unshare --pid --fork` without
// --mount-proc): its pids name other processes in pause's namespace, so pause
// uses it for nothing. pause starts as pid 2 of the namespace and the sibling
// as pid 3: on the host, pid 2 is kthreadd and its children are kernel
// threads numbered from 3, so a wind-down that read this /proc would signal
// the sibling. The command waits on a fifo until the sibling runs.
describe.skipIf(skip)("with another PID namespace's /proc, not PID 1", () => {
  it('signals no process outside its tree, and says /proc is not its own', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pause-foreign-proc-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync('mkfifo', [`${dir}/go`]); // here, not in the namespace: pause must be its first child
    const script = [
      `${PAUSE} --verbose -t 1000 -- sh -c 'read x < ${dir}/go; exit 3' & P=$!`,
      'sleep 1000 & S=$!',
      `echo go > ${dir}/go`,
      'wait $P; echo "pause=$?"',
      'if kill -0 $S 2>/dev/null; then echo sibling=alive; kill $S; else echo sibling=dead; fi',
    ].join('\n');
    const result = await run('unshare', ['--pid', '--fork', 'sh', '-c', script]);
    expect(result.stdout).toBe('pause=3\nsibling=alive\n');
    expect(result.stderr).toMatch(/^pause: .*\/proc is another PID namespace's \(mount the namespace's own\): [^\n]*only its process group is signalled/m);
  });
});
