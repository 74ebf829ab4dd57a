// procfs: parent pids from /proc/PID/stat of real processes whose command
// names are built to break naive parsing, and whole trees started here.
import { copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStat } from '../src/proc-stat.ts';
import { descendantsOf, procState } from '../src/procfs.ts';
import { descendants, readProc, start, waitFor } from './helpers/process.ts';

// comm is the executable's file name (first 15 bytes); these names put ') ',
// '(' , spaces, digits and a newline where the stat fields are.
const NASTY = ['a) b (c', ') 1 2 3 S 9 (', 'x)\n(y) Z 1', 'sh) R 1 1 1 1'];
const bin = mkdtempSync(join(tmpdir(), 'procfs-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

/** A copy of `source` under `name`, so that the process's comm is `name`. */
function copyAs(source: string, name: string): string {
  const path = join(bin, name);
  copyFileSync(source, path);
  return path;
}

function stat(pid: number): string {
  const text = readProc(`/proc/${pid}/stat`);
  if (text === undefined) throw new Error(`no /proc/${pid}/stat`);
  return text;
}

describe('parseStat', () => {
  it.each(NASTY)('a real process named %j', async (name) => {
    const sleeper = start(copyAs('/bin/sleep', name), ['100']);
    const pid = sleeper.pid;
    // Until exec, comm is still the forking Node's: wait for the new name.
    const text = await waitFor(`comm of ${pid} to be ${JSON.stringify(name)}`, () => {
      const current = stat(pid);
      return current.includes(`(${name})`) ? current : undefined;
    });
    expect(parseStat(text)).toMatchObject({ comm: name, ppid: process.pid });
  });

  it('a full stat line', () => {
    const line = '4242 (sl) p) S 17 4240 17 34816 4240 4194304 100 0 7 0 12 34 0 0 20 0 1 0 5 0 0';
    expect(parseStat(line)).toEqual({ comm: 'sl) p', state: 'S', ppid: 17, pgrp: 4240, session: 17, tpgid: 4240, majflt: 7, utime: 12, stime: 34 });
  });
  it.each(['4242 (sleep)', '', 'nothing here', '4242 (sleep) S x'])('%j is null, not numbers', (text) => expect(parseStat(text)).toBeNull());
});

describe('descendantsOf', () => {
  it('finds every process of a real tree whose members have nasty names', async () => {
    const sh = copyAs('/bin/sh', NASTY[0] ?? '');
    const sleep = copyAs('/bin/sleep', NASTY[2] ?? '');
    // root: a shell with two sleepers and a sub-shell that has a sleeper of its own.
    const script = `'${sleep}' 100 & '${sleep}' 100 & '${sh}' -c "'${sleep}' 100 & wait" & wait`;
    const root = start(sh, ['-c', script]);
    const rootPid = root.pid;
    const tree = await waitFor('a tree of 4 processes below the root', () => {
      const found = descendants(rootPid); // the kernel's own children lists
      return found.length === 4 ? found : undefined;
    });
    expect(descendantsOf(rootPid, '/proc')?.sort()).toEqual([...tree].sort());
  });

  it('does not include the root itself nor processes outside the tree', () => {
    const root = start('sleep', ['100']);
    const rootPid = root.pid;
    expect(descendantsOf(rootPid, '/proc')).toEqual([]);
    expect(descendantsOf(process.pid, '/proc')).toContain(rootPid);
    expect(descendantsOf(process.pid, '/proc')).not.toContain(process.pid);
  });

  it.each([['a path that does not exist', '/nonexistent-proc'], ['an empty directory', 'EMPTY']])(
    'is null, not an error, when procRoot is %s (no /proc mounted)', (_, root) => {
      const dir = root === 'EMPTY' ? mkdtempSync(join(tmpdir(), 'pause-noproc-')) : root;
      try {
        expect(descendantsOf(process.pid, dir)).toBeNull();
      } finally {
        if (root === 'EMPTY') rmSync(dir, { recursive: true });
      }
    });
});

// The real case, a parent namespace's /proc, runs the executable in
// test/init-no-proc.test.ts; here a directory whose `self` names another pid.
describe('procState', () => {
  it("is 'own' for this process's /proc, 'absent' without one, 'foreign' when self names another pid", () => {
    expect(procState()).toBe('own');
    expect(procState('/nonexistent-proc')).toBe('absent');
    const dir = mkdtempSync(join(tmpdir(), 'pause-foreign-proc-'));
    try {
      symlinkSync(String(process.pid + 1), join(dir, 'self'));
      expect(procState(dir)).toBe('foreign');
      expect(descendantsOf(process.pid, null)).toBeNull();
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
