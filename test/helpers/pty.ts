// A real pseudo-terminal (node-pty) for terminal tests: type into it, poll its
// output with deadlines, find the processes of its session, kill them all.
import { readdirSync } from 'node:fs';
import pty, { type IPty } from 'node-pty';
import type { ProcStat } from '../../src/proc-stat.ts';
import { onCleanup, statOf as procStat, tryKill, waitFor } from './process.ts';

export { exeOf } from '../../tools/procs.ts';

/** A process's /proc/PID/stat, with its pid. */
export interface Stat extends ProcStat {
  readonly pid: number;
}

export function statOf(pid: number): Stat | undefined {
  const stat = procStat(pid);
  return stat && { pid, ...stat };
}

/** Every live process of a session. */
function sessionMembers(session: number): Stat[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map((entry) => statOf(Number(entry)))
    .filter((stat): stat is Stat => stat !== undefined && stat.session === session && stat.state !== 'Z');
}

/** node-pty's destroy(): closes the master side, then sends SIGHUP. It exists on Unix but not in the typings. */
function hangUp(term: IPty): void {
  const closable: IPty & { destroy?: unknown } = term;
  if (typeof closable.destroy !== 'function') throw new Error('this node-pty has no destroy(): cannot close the terminal');
  closable.destroy();
}

export interface Terminal {
  /** The process the terminal was started with; it leads the session. */
  readonly pid: number;
  /** Everything the terminal has shown so far. */
  output(): string;
  /** Length of the output now: pass to waitForOutput to look only at what comes later. */
  mark(): number;
  write(text: string): void;
  resize(cols: number, rows: number): void;
  /** Closes the terminal's master side and sends SIGHUP to the leader, as a terminal emulator does. */
  close(): void;
  /** Waits until `pattern` shows up in the output after `since`; returns the match. */
  waitForOutput(pattern: RegExp, since?: number, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Waits for a process of the session that `match` accepts. */
  waitForMember(what: string, match: (stat: Stat) => boolean): Promise<Stat>;
  readonly exited: Promise<{ exitCode: number; signal: number }>;
}

/**
 * Starts `file args` as the session leader of a new pseudo-terminal (80x24).
 * After the test, every process of the session is SIGKILLed and the terminal closed.
 */
export function openTerminal(file: string, args: readonly string[], env: Readonly<Record<string, string>> = {}): Terminal {
  const term = pty.spawn(file, [...args], {
    name: 'xterm', cols: 80, rows: 24, cwd: process.cwd(),
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/root', LANG: 'C', ...env },
  });
  let text = '';
  term.onData((data) => { text += data; });
  let done = false;
  const exited = new Promise<{ exitCode: number; signal: number }>((resolve) => {
    term.onExit((end) => { done = true; resolve({ exitCode: end.exitCode, signal: end.signal ?? 0 }); });
  });
  onCleanup(async () => {
    // Members may outlive the leader; look them up by session, not by parent.
    for (const member of sessionMembers(term.pid)) tryKill(member.pid, 'SIGKILL');
    tryKill(term.pid, 'SIGKILL');
    await waitFor(`the session ${term.pid} to be gone`, () => sessionMembers(term.pid).length === 0, 5_000);
    if (!done) term.kill('SIGKILL');
  });
  return {
    pid: term.pid,
    output: () => text,
    mark: () => text.length,
    write: (data) => term.write(data),
    resize: (cols, rows) => term.resize(cols, rows),
    close: () => hangUp(term),
    waitForOutput: async (pattern, since = 0, timeoutMs = 10_000) => {
      try {
        return await waitFor(`${pattern} in the terminal`, () => pattern.exec(text.slice(since)) ?? undefined, timeoutMs);
      } catch (error) {
        throw new Error(`${(error as Error).message}; it shows: ${JSON.stringify(text.slice(since))}`);
      }
    },
    waitForMember: (what, match) => waitFor(what, () => sessionMembers(term.pid).find(match)),
    exited,
  };
}
