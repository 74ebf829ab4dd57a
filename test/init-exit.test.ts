// Init mode: pause exits with its child's status (src/init-phases.ts exitStatus, src/init.ts execFailureCode).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toolAvailable } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { run } from './helpers/process.ts';

/** Runs `runner -- sh -c SCRIPT` and gives its exit code. */
async function exitOf(runner: readonly string[], script: string, env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  const [command = '', ...args] = runner;
  return (await run(command, [...args, '--', 'sh', '-c', script], { env })).code;
}

// The child kills itself; `ulimit -c 0` keeps SIGQUIT from leaving a core file.
const SELF_KILLS = ['TERM', 'INT', 'HUP', 'QUIT', 'KILL', 'USR1', 'USR2'] as const;
const SIGNAL_NUMBER = { TERM: 15, INT: 2, HUP: 1, QUIT: 3, KILL: 9, USR1: 10, USR2: 12 } as const;
const selfKill = (name: string): string => `ulimit -c 0; kill -${name} $$; sleep 10`;

let dir = '';
let notExecutable = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pause-exit-'));
  notExecutable = join(dir, 'not-executable');
  writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n');
  chmodSync(notExecutable, 0o644);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('exit codes pass through', () => {
  // 256 runs, 32 at a time, in 8 tests so that a failure names its range.
  const BATCH = 32;
  test.each(Array.from({ length: 256 / BATCH }, (_, i) => i * BATCH))('codes %i.. exit with the same code', async (first) => {
    const codes = Array.from({ length: BATCH }, (_, i) => first + i);
    const seen = await Promise.all(codes.map((code) => exitOf([PAUSE], `exit ${code}`)));
    expect(seen).toEqual(codes);
  });
});

describe('death by signal', () => {
  test.each(SELF_KILLS)('a child killed by SIG%s makes pause exit 128+N', async (name) => {
    expect(await exitOf([PAUSE], selfKill(name))).toBe(128 + SIGNAL_NUMBER[name]);
  });
});

describe('--remap-exit', () => {
  test.each([[3, 0], [42, 0], [143, 0], [4, 4]])('with -e 3 -e 42 -e 143, exit %i becomes %i', async (code, expected) => {
    const script = code === 143 ? selfKill('TERM') : `exit ${code}`;
    expect(await exitOf([PAUSE, '--remap-exit', '3', '-e', '42', '--remap-exit=143'], script)).toBe(expected);
  });

  test.each([[3, 0], [42, 0], [4, 4]])('with PAUSE_REMAP_EXIT=3,42, exit %i becomes %i', async (code, expected) => {
    expect(await exitOf([PAUSE], `exit ${code}`, { ...process.env, PAUSE_REMAP_EXIT: '3,42' })).toBe(expected);
  });
});

describe('exec failure', () => {
  test('a command that does not exist: its name and the reason on stderr, exit 127', async () => {
    const result = await run(PAUSE, ['--', '/nonexistent/command', 'arg']);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe('pause: /nonexistent/command: no such file or directory\n');
  });

  test('a command not found on PATH exits 127', async () => {
    const result = await run(PAUSE, ['--', 'no-such-command-in-path']);
    expect(result.code).toBe(127);
    expect(result.stderr).toBe('pause: no-such-command-in-path: no such file or directory\n');
  });

  test('a file without execute permission: permission denied, exit 126', async () => {
    const result = await run(PAUSE, ['--', notExecutable]);
    expect(result.code).toBe(126);
    expect(result.stderr).toBe(`pause: ${notExecutable}: permission denied\n`);
  });

  test('a directory cannot be executed: exit 126', async () => {
    const result = await run(PAUSE, ['--', dir]);
    expect(result.code).toBe(126);
    expect(result.stderr).toMatch(/^pause: .*: permission denied\n$/);
  });
});

// tini (Debian 0.19) is the reference for what an init exits with. Outside
// PID 1 it warns unless it registers as subreaper: hence `tini -s`.
describe('the same exit status as tini', () => {
  const haveTini = toolAvailable('tini');
  const both = async (script: string): Promise<{ pause: number | null; tini: number | null }> => {
    const [pause, tini] = await Promise.all([exitOf([PAUSE], script), exitOf(['tini', '-s'], script)]);
    return { pause, tini };
  };

  test.skipIf(!haveTini)('exit codes', async () => {
    for (const code of [0, 1, 2, 42, 126, 127, 128, 129, 143, 255]) {
      const { pause, tini } = await both(`exit ${code}`);
      expect({ code, pause }).toEqual({ code, pause: tini });
    }
  });

  test.skipIf(!haveTini)('death by signal', async () => {
    for (const name of SELF_KILLS) {
      const { pause, tini } = await both(selfKill(name));
      expect({ name, pause }).toEqual({ name, pause: tini });
    }
  });

  test.skipIf(!haveTini)('exec failures: not found (ENOENT), not executable (EACCES), name too long', async () => {
    for (const command of ['/nonexistent/command', 'no-such-command-in-path', notExecutable, dir, 'x'.repeat(300)]) {
      const [pause, tini] = await Promise.all([run(PAUSE, ['--', command]), run('tini', ['-s', '--', command])]);
      expect({ command, pause: pause.code }).toEqual({ command, pause: tini.code });
    }
  });
});
