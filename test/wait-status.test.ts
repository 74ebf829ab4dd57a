// decodeWaitStatus against statuses the kernel really produced: perl's $? after
// waitpid is the raw status word. The same command is run by Node's
// child_process, whose (code, signal) report is the reference.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeWaitStatus, exitCodeFor } from '../src/wait-status.ts';

// Core dumps land in the working directory (core_pattern 'core' on Debian): keep them in a scratch one.
const scratch = mkdtempSync(join(tmpdir(), 'wait-status-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The raw waitpid status of `sh -c script`. */
function rawStatus(script: string): number {
  const reporter = 'my $p = fork // die "fork: $!"; if ($p == 0) { exec @ARGV or die "exec: $!" } waitpid($p, 0) == $p or die; print $?';
  const result = spawnSync('perl', ['-e', reporter, 'sh', '-c', script], { encoding: 'utf8', cwd: scratch });
  if (result.status !== 0) throw new Error(`perl failed: ${result.stderr}`);
  return Number(result.stdout);
}

/** What Node's child_process says about the same command. */
function nodeReport(script: string): { code: number | null; signal: NodeJS.Signals | null } {
  const result = spawnSync('sh', ['-c', script], { cwd: scratch });
  return { code: result.status, signal: result.signal };
}

/** What a shell reports as $? for the same command: the 128+N convention. */
function shellStatus(script: string): number {
  const result = spawnSync('sh', ['-c', `sh -c '${script}'; echo $?`], { encoding: 'utf8', cwd: scratch });
  return Number(result.stdout.trim());
}

describe('exits', () => {
  it.each([0, 1, 2, 3, 42, 126, 127, 128, 200, 255])('exit %i', (code) => {
    const script = `exit ${code}`;
    const end = decodeWaitStatus(rawStatus(script));
    expect(end).toEqual({ kind: 'exited', code });
    expect(nodeReport(script)).toEqual({ code, signal: null });
    expect(exitCodeFor(end)).toBe(shellStatus(script));
  });
});

describe('deaths by signal', () => {
  it.each(['HUP', 'INT', 'KILL', 'USR1', 'USR2', 'PIPE', 'ALRM', 'TERM'] as const)('SIG%s', (name) => {
    const script = `kill -${name} $$`;
    const end = decodeWaitStatus(rawStatus(script));
    const reported = nodeReport(script);
    expect(reported.code).toBeNull();
    expect(end).toEqual({ kind: 'signaled', signo: constants.signals[reported.signal ?? 'SIGSYS'], coreDumped: false });
    expect(reported.signal).toBe(`SIG${name}`);
    expect(exitCodeFor(end)).toBe(shellStatus(script));
  });

  it('a real-time signal (SIGRTMIN+2, 36)', () => {
    const end = decodeWaitStatus(rawStatus('kill -36 $$'));
    expect(end).toEqual({ kind: 'signaled', signo: 36, coreDumped: false });
    expect(exitCodeFor(end)).toBe(shellStatus('kill -36 $$'));
  });

  it.each(['QUIT', 'ABRT', 'SEGV'] as const)('SIG%s with a core dump sets the core flag', (name) => {
    const script = `ulimit -c unlimited; kill -${name} $$`;
    const end = decodeWaitStatus(rawStatus(script));
    expect(end).toEqual({ kind: 'signaled', signo: constants.signals[`SIG${name}`], coreDumped: true });
    expect(nodeReport(script).signal).toBe(`SIG${name}`);
    expect(exitCodeFor(end)).toBe(128 + constants.signals[`SIG${name}`]);
  });

  it('SIGQUIT without a core (RLIMIT_CORE 0) leaves the core flag clear', () => {
    const end = decodeWaitStatus(rawStatus('ulimit -c 0; kill -QUIT $$'));
    expect(end).toEqual({ kind: 'signaled', signo: constants.signals.SIGQUIT, coreDumped: false });
  });
});
