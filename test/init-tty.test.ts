// Init mode on a real pseudo-terminal: the child owns the terminal's
// foreground, so the terminal's own signals (Ctrl-C, Ctrl-Z, SIGWINCH) go to
// it and not to pause, which sits in the background.
import { describe, expect, it } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { toolAvailable } from './helpers/children.ts';
import { isAlive, waitFor } from './helpers/process.ts';
import { openTerminal, statOf, type Stat, type Terminal } from './helpers/pty.ts';

const PS1 = 'PROMPT$ ';
const PROMPT = /PROMPT\$ /;
const CTRL_C = '\x03';
const CTRL_Z = '\x1a';
const CTRL_BACKSLASH = '\x1c';

const inForeground = (comm: string) => (stat: Stat): boolean => stat.comm === comm && stat.tpgid === stat.pgrp;

/** An interactive shell at its first prompt: `sh`, or `file ...args sh`. */
async function shell(file = 'sh', args: readonly string[] = []): Promise<Terminal> {
  const term = openTerminal(file, file === 'sh' ? [] : [...args, 'sh'], { PS1 });
  await term.waitForOutput(PROMPT);
  return term;
}

describe('pause -- sh, interactive', () => {
  it('a command typed at the prompt shows its output', async () => {
    const term = await shell(PAUSE, ['--']);
    term.write('echo hello-$((6*7))\r');
    await term.waitForOutput(/hello-42/);
  });

  it('`exit 7` at the prompt makes pause exit 7', async () => {
    const term = await shell(PAUSE, ['--']);
    term.write('exit 7\r');
    expect(await term.exited).toEqual({ exitCode: 7, signal: 0 });
  });

  it('Ctrl-C interrupts the shell\'s foreground job, not pause', async () => {
    const term = await shell(PAUSE, ['--verbose', '--']);
    const since = term.mark();
    term.write('sleep 100\r');
    const sleeper = await term.waitForMember('sleep in the foreground', inForeground('sleep'));
    term.write(CTRL_C);
    await term.waitForOutput(PROMPT, since);
    await waitFor('sleep to be gone', () => !isAlive(sleeper.pid));
    expect(isAlive(term.pid)).toBe(true);
    // --verbose logs every signal pause forwards: it never saw this SIGINT.
    expect(term.output()).not.toMatch(/SIGINT/);
    term.write('echo still-$((1+1))\r');
    await term.waitForOutput(/still-2/, since);
  });
});

it('Ctrl-C on `pause -- cat` ends cat by SIGINT and pause exits 130', async () => {
  const term = openTerminal(PAUSE, ['--', 'cat']);
  await term.waitForMember('cat in the foreground', inForeground('cat'));
  term.write(CTRL_C);
  expect(await term.exited).toEqual({ exitCode: 130, signal: 0 });
});

it('Ctrl-\\ on `pause -- cat` ends cat by SIGQUIT and pause exits 131', async () => {
  const term = openTerminal(PAUSE, ['--', 'cat']);
  await term.waitForMember('cat in the foreground', inForeground('cat'));
  term.write(CTRL_BACKSLASH);
  expect(await term.exited).toEqual({ exitCode: 131, signal: 0 });
});

it('closing the terminal hangs up the child and pause exits 129', async () => {
  // destroy() closes the master side and sends SIGHUP to pause, as a terminal
  // emulator does; the kernel also sends SIGHUP to the foreground group.
  const term = openTerminal(PAUSE, ['--', 'sleep', '100']);
  await term.waitForMember('sleep in the foreground', inForeground('sleep'));
  term.close();
  expect(await term.exited).toEqual({ exitCode: 129, signal: 0 });
});

it('started in the background from a shell, pause does not take the terminal from it', async () => {
  const term = await shell();
  const since = term.mark();
  term.write(`${PAUSE} -- sleep 100 &\r`);
  const sleeper = await term.waitForMember('sleep under pause', (stat) => stat.comm === 'sleep');
  expect(sleeper.tpgid).toBe(term.pid); // the shell's group still owns the terminal
  term.write('echo fg-$((2+3))\r');
  await term.waitForOutput(/fg-5/, since);
});

it('resizing the terminal delivers SIGWINCH to the child, which sees the new size', async () => {
  const script = 'trap "echo WINCH; stty size" WINCH; echo ready; while :; do sleep 0.05; done';
  const term = openTerminal(PAUSE, ['--', 'sh', '-c', script]);
  await term.waitForOutput(/ready/);
  term.resize(100, 30);
  await term.waitForOutput(/WINCH\r?\n30 100/);
});

it('the child leads the terminal\'s foreground process group; pause is not in it', async () => {
  const term = openTerminal(PAUSE, ['--', 'sleep', '100']);
  const child = await term.waitForMember('sleep in the foreground', inForeground('sleep'));
  expect(child.pgrp).toBe(child.pid);
  expect(child.ppid).toBe(term.pid);
  const pause = statOf(term.pid);
  expect(pause?.pgrp).toBe(term.pid);
  expect(pause?.tpgid).toBe(child.pid);
});

it('with TOSTOP set, pause writing its log from the background is not stopped (SIGTTOU ignored)', async () => {
  // Under an interactive shell, pause's group has a parent in another group of
  // the session, so it is not orphaned: a background write with TOSTOP would
  // stop it with SIGTTOU unless SIGTTOU is ignored.
  const term = await shell();
  // Markers are computed ($((...))) so that the echo of the typed line cannot match them.
  const script = 'trap "echo GOT-USR$((0+1))" USR1; echo $((40+2))-ready; while :; do sleep 0.05; done';
  term.write(`stty tostop; ${PAUSE} --verbose -- sh -c '${script}'; echo status=$?\r`);
  const since = term.mark();
  await term.waitForOutput(/42-ready/, since);
  const pause = await term.waitForMember('pause under the shell', (stat) => stat.ppid === term.pid);
  expect(pause.tpgid).not.toBe(pause.pgrp); // in the background
  process.kill(pause.pid, 'SIGUSR1'); // pause logs "forwarded SIGUSR1" to the terminal
  await term.waitForOutput(/forwarded SIGUSR1/, since);
  await term.waitForOutput(/GOT-USR1/, since);
  expect(statOf(pause.pid)?.state).not.toBe('T');
  // Ctrl-C ends the child; pause logs its exit (still from the background),
  // takes the foreground back, exits 130 and the shell gets its prompt back.
  term.write(CTRL_C);
  await term.waitForOutput(/status=130/, since);
  await term.waitForOutput(PROMPT, since);
});

it('a command that cannot be found: the message reaches the terminal, exit 127, the shell gets its prompt back', async () => {
  // The spawned child took the foreground before its exec failed: pause, now in
  // the background (TOSTOP set), still writes its message and exits.
  const term = await shell();
  const since = term.mark();
  term.write(`stty tostop; ${PAUSE} -- /nonexistent/cmd; echo status=$?\r`);
  await term.waitForOutput(/pause: \/nonexistent\/cmd: .*\r?\nstatus=127/, since);
  term.write('echo after-$((3+4))\r');
  await term.waitForOutput(/after-7/, since);
});

it('control for the test above: in the same spot, a parent that does not ignore SIGTTOU is stopped', async () => {
  // perl plays an init that hands the terminal to its child's group and then
  // writes with SIGTTOU at its default: the shell reports it stopped.
  const term = await shell();
  const perl = 'use POSIX; my $p = fork; if (!$p) { setpgid(0, 0); sleep 100; exit } setpgid($p, $p); '
    + '$SIG{TTOU} = "IGNORE"; tcsetpgrp(0, $p); $SIG{TTOU} = "DEFAULT"; print "wrote\\n"; waitpid($p, 0)';
  const since = term.mark();
  term.write(`stty tostop; perl -e '${perl}'\r`);
  await term.waitForOutput(/Stopped \(tty output\)/, since);
  expect(term.output().slice(since)).not.toMatch(/^wrote/m);
});

// Ctrl-Z sends SIGTSTP to the foreground group, which is the child's: the child
// stops. The init (pause or tini) is in another group, is not stopped and does
// not wait for stopped children (no WUNTRACED), so the shell that started it
// sees no stopped job and keeps waiting: no "Stopped", no prompt. SIGCONT to
// the child resumes it. Seen the same with tini 0.19 (`tini -s --`) and pause.
describe.each([
  ['pause', PAUSE, ['--']],
  ['tini', 'tini', ['-s', '--']],
] as const)('Ctrl-Z under %s', (name, file, args) => {
  // Outside CI a missing tini skips its half; in CI toolAvailable fails the file.
  it.skipIf(!toolAvailable(file))(`stops the child, not ${name}; SIGCONT to the child resumes it`, async () => {
    const term = await shell();
    const since = term.mark();
    term.write(`${file} ${args.join(' ')} sleep 100; echo status=$?\r`);
    const child = await term.waitForMember('sleep in the foreground', inForeground('sleep'));
    const init = statOf(child.ppid);
    expect(init?.ppid).toBe(term.pid);
    term.write(CTRL_Z);
    await waitFor('the child to stop', () => statOf(child.pid)?.state === 'T');
    // Not 'S' exactly: the stop sends the init a SIGCHLD, which may have it running ('R') for a moment.
    expect(statOf(child.ppid)?.state).not.toBe('T');
    process.kill(child.pid, 'SIGCONT');
    await waitFor('the child to run again', () => statOf(child.pid)?.state !== 'T');
    term.write(CTRL_C);
    await term.waitForOutput(/status=130/, since);
    expect(term.output().slice(since)).not.toMatch(/Stopped/i);
  });
});
