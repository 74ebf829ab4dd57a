// The name the tools around pause know it by. Node names its main thread
// `node-MainThread`, which is the process's /proc/PID/comm; pause renames it
// `pause` (src/libc.ts), in both modes, and leaves its argv alone.
import { describe, expect, it } from 'vitest';
import { execedChild, toolAvailable } from './helpers/children.ts';
import { PAUSE } from './helpers/paths.ts';
import { inNamespaceArgs, isPauseModeReady, startAsPid1 } from './helpers/pid1.ts';
import { busyboxPsCommand, readProc, run, start, taskIds, waitFor, type Started } from './helpers/process.ts';

const TOOLS = ['ps', 'pgrep', 'busybox', 'unshare', 'nsenter'];
const missing = TOOLS.filter((tool) => !toolAvailable(tool));

/** Init mode's command reports its parent's name before anything else: pause must have named itself before spawning it. */
const INIT_ARGS = ['--', 'sh', '-c', 'cat /proc/$PPID/comm; exec sleep 1000'];

interface Subject {
  readonly started: Started;
  /** Its pid where the tools run: 1 inside its own namespace, else the host's pid. */
  readonly pid: number;
  /** Runs a tool where `pid` is right: inside the namespace for PID 1. */
  tool(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

async function startSubject(mode: 'pause' | 'init', asPid1: boolean): Promise<Subject> {
  const args = mode === 'pause' ? [] : INIT_ARGS;
  const started = asPid1 ? await startAsPid1(PAUSE, args) : start(PAUSE, args);
  if (mode === 'pause') await waitFor('pause mode to set up its signals', () => isPauseModeReady(started.pid));
  else await execedChild(started.pid, 'sleep');
  const tool = (toolArgs: readonly string[]) => {
    if (!asPid1) return run(toolArgs[0] ?? '', toolArgs.slice(1));
    const [command, nsenter] = inNamespaceArgs(started.pid, 'exec "$@"');
    return run(command, [...nsenter, 'sh', ...toolArgs]);
  };
  return { started, pid: asPid1 ? 1 : started.pid, tool };
}

const CASES = [
  ['pause', false], ['pause', true], ['init', false], ['init', true],
] as const;

describe.skipIf(missing.length > 0)('the process name', () => {
  describe.each(CASES)('%s mode, as PID 1: %s', (mode, asPid1) => {
    const argv = [PAUSE, ...(mode === 'pause' ? [] : INIT_ARGS)];

    it('is `pause` in /proc/PID/comm, and /proc/PID/cmdline is the argv it was given', async () => {
      const { started } = await startSubject(mode, asPid1);
      expect(readProc(`/proc/${started.pid}/comm`)).toBe('pause\n');
      expect(readProc(`/proc/${started.pid}/cmdline`)).toBe(`${argv.join('\0')}\0`);
    });

    it('ps -o comm and pgrep -x pause know it as pause', async () => {
      const subject = await startSubject(mode, asPid1);
      const ps = await subject.tool(['ps', '-o', 'comm=', '-p', String(subject.pid)]);
      expect(ps.stdout.trim()).toBe('pause');
      const pgrep = await subject.tool(['pgrep', '-x', 'pause']);
      expect(pgrep.stdout.split('\n')).toContain(String(subject.pid));
    });

    it('busybox ps shows its argv as is, with no {name} in front', async () => {
      const subject = await startSubject(mode, asPid1);
      const ps = await subject.tool(['busybox', 'ps']);
      expect(busyboxPsCommand(ps.stdout, subject.pid)).toBe(argv.join(' '));
    });

    it('renames only the main thread: Node\'s other threads keep their names', async () => {
      const { started } = await startSubject(mode, asPid1);
      const nameOf = (tid: string) => readProc(`/proc/${started.pid}/task/${tid}/comm`)?.trim();
      const others = () => taskIds(started.pid).filter((tid) => tid !== String(started.pid)).map(nameOf);
      expect(nameOf(String(started.pid))).toBe('pause');
      // Init mode's own thread, which takes the signals (src/init.ts), is made by the renamed main
      // thread just after the spawn, and has its name.
      const mine = mode === 'init' ? 1 : 0;
      await waitFor('init mode\'s signal thread', () => others().filter((name) => name === 'pause').length === mine);
      expect(others().filter((name) => name !== 'pause')).toEqual(expect.arrayContaining(['DelayedTaskSche']));
    });

    if (mode === 'init') {
      it('is named before the command is spawned', async () => {
        const { started } = await startSubject(mode, asPid1);
        await waitFor('the command to print its parent\'s name', () => started.stdout().includes('\n'));
        expect(started.stdout()).toBe('pause\n');
      });
    }
  });
});
