// Coming from tini: its command line and its TINI_* variables work on the
// real executable, and pause's own PAUSE_* variable wins over tini's.
import { expect, test } from 'vitest';
import { execedChild } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { unshareArgs } from './helpers/pid1.ts';
import { childrenOf, run, start, waitFor } from './helpers/process.ts';

/** The environment of the test runner without any PAUSE_* or TINI_* of its own, plus `extra`. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(PAUSE|TINI)_/.test(name)));
  return { ...clean, ...extra };
}

test('-vvv -p SIGUSR1 -- CMD (tini\'s README form) runs CMD, logs verbosely and sets the parent-death signal', async () => {
  // sh starts pause in the background and exits when its stdin closes: pause's
  // parent dies, the kernel sends pause SIGUSR1, and pause forwards it.
  const sh = start('sh', ['-c', '"$0" -vvv -p SIGUSR1 -- sleep 100 & read line', PAUSE], { env: env({}), stdio: ['pipe', 'pipe', 'pipe'] });
  const pause = await waitFor('pause under sh', () => childrenOf(sh.pid)[0]);
  const sleep = await execedChild(pause, 'sleep');
  await waitFor('the verbose spawn line', () => sh.stderr().includes('started sleep'));
  sh.child.stdin?.end();
  // Resolves once every writer of the stderr pipe is gone: sh, pause and sleep.
  await sh.exited;
  expect(sh.stdout()).not.toMatch(/pause\.ts/); // -vvv was not taken for --version
  expect(sh.stderr()).toContain(`forwarded SIGUSR1 to pid ${sleep}`);
  expect(sh.stderr()).toMatch(/command exited.*SIGUSR1/);
});

test.each([
  ['TINI_VERBOSITY=3', { TINI_VERBOSITY: '3' }, true],
  ['PAUSE_VERBOSE=0 wins over TINI_VERBOSITY=3', { TINI_VERBOSITY: '3', PAUSE_VERBOSE: '0' }, false],
] as const)('%s', async (_, vars, logged) => {
  const result = await run(PAUSE, ['--', 'true'], { env: env(vars) });
  expect(result.code).toBe(0);
  expect(result.stderr.includes('started true')).toBe(logged);
});

test.each([
  ['TINI_KILL_PROCESS_GROUP=1', { TINI_KILL_PROCESS_GROUP: '1' }, 'process group'],
  ['PAUSE_PROCESS_GROUP=0 wins over TINI_KILL_PROCESS_GROUP', { TINI_KILL_PROCESS_GROUP: '1', PAUSE_PROCESS_GROUP: '0' }, 'pid'],
] as const)('%s: where a forwarded signal goes', async (_, vars, target) => {
  const pause = start(PAUSE, ['--verbose', '--', 'sleep', '100'], { env: env(vars) });
  const child = await execedChild(pause.pid, 'sleep');
  pause.child.kill('SIGTERM');
  expect((await pause.exited).code).toBe(143);
  expect(pause.stderr()).toContain(`forwarded SIGTERM to ${target} ${child}`);
});

// As PID 1 pause registers as subreaper only when asked (-s): it already
// receives every orphan of its namespace.
test.each([
  ['TINI_SUBREAPER (empty, as tini\'s README sets it)', { TINI_SUBREAPER: '' }, true],
  ['PAUSE_SUBREAPER=0 wins over TINI_SUBREAPER', { TINI_SUBREAPER: '', PAUSE_SUBREAPER: '0' }, false],
  ['neither', {}, false],
] as const)('as PID 1, %s', async (_, vars, registered) => {
  const result = await run('unshare', [...unshareArgs(), PAUSE, '--verbose', '--', 'true'], { env: env(vars) });
  expect(result.code).toBe(0);
  expect(result.stderr.includes('registered as child subreaper')).toBe(registered);
});


// tini's own suite (test/run_inner_tests.py, "reaping display test") runs
// `tini -w` over a script that leaves a zombie and looks for these words in
// stderr, with -s, with TINI_SUBREAPER and under a subreaper, and for their
// absence without -w. Log scrapers written for tini do the same.
test.each([
  ['-w', ['-w'], {}, true],
  ['-s -w', ['-s', '-w'], {}, true],
  ['-w with TINI_SUBREAPER', ['-w'], { TINI_SUBREAPER: '' }, true],
  ['without -w', [], {}, false],
] as const)('tini\'s reaping display test, %s', async (_, flags, vars, shown) => {
  // $(…) returns once the orphan has closed its stdout: it has said its pid and is exiting, not to be SIGTERMed first.
  const result = await run(PAUSE, [...flags, '--', 'sh', '-c', 'o=$( (sh -c \'echo $$\' &) ); echo "zombie $o"; exit 0'], { env: env(vars) });
  expect(result.code).toBe(0);
  const zombie = /^zombie (\d+)$/m.exec(result.stdout)?.[1];
  expect(zombie).toBeDefined();
  expect(result.stderr.includes(`Reaped zombie process with pid=${zombie}`)).toBe(shown);
});
