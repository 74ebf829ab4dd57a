// Figure 4: a storm of orphans re-parented to the program as PID 1 of a new
// PID namespace (as in a pod), made from inside it by `helper storm`.
import { realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stormCommand } from './helper.ts';
import { killTree, launch, settle, waitFor } from './processes.ts';
import { childPids, cpuNs, exe, wakeups } from './proc.ts';
import { initSubjects, pauseSubjects, type Program, type Subject } from './programs.ts';
import { stat } from './stats.ts';
import type { Figure, Row } from './types.ts';

const rootless = process.getuid?.() !== 0;

interface Storm { drainMs: number; peak: number; wakeups: number; cpuMs: number }

async function stormOnce(program: Program, argv: string[], hasChild: boolean, count: number, helper: string | null): Promise<Storm> {
  const unshare = launch(['unshare', ...(rootless ? ['--user', '--map-root-user'] : []), '--pid', '--fork', '--mount-proc', program.path, ...argv]);
  const outer = unshare.pid;
  if (outer === undefined) throw new Error('bench: unshare did not start');
  try {
    const binary = realpathSync(program.path);
    // Until it has exec'd, the child of unshare is a copy of unshare.
    const pid1 = await waitFor(`${program.id} as PID 1`, () => childPids(outer).find((pid) => exe(pid) === binary));
    if (hasChild) await waitFor(`the child of ${program.id}`, () => childPids(pid1).length > 0);
    await settle([pid1], 300);
    const baseline = childPids(pid1).length;
    const switches = wakeups(pid1);
    const cpu = cpuNs(pid1);

    const generator = launch(['nsenter', '--target', String(pid1), ...(rootless ? ['--user'] : []), '--pid', '--', ...stormCommand(helper, count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    generator.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    let done = false;
    generator.on('exit', () => { done = true; });

    // Sampled every millisecond or so: orphans not yet released (zombies, and
    // the moment between an orphan's fork and its exit).
    let peak = 0;
    let lastUnreaped = 0n;
    let firstClear = 0n;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const now = process.hrtime.bigint();
      const unreaped = childPids(pid1).length - baseline;
      peak = Math.max(peak, unreaped);
      if (unreaped > 0) { lastUnreaped = now; firstClear = 0n; } else if (firstClear === 0n) firstClear = now;
      if (done && unreaped <= 0) break;
      if (Date.now() > deadline) throw new Error(`bench: ${program.id} did not reap the storm within 120 s`);
      await sleep(1);
    }
    const lastFork = BigInt(output.trim() || '0');
    if (lastFork === 0n) throw new Error('bench: the storm generator failed');
    // From the last orphan's birth to the first sample with none left; 0 when
    // none was left unreaped after it (finer than the sampling can tell).
    const drainNs = lastUnreaped < lastFork ? 0n : firstClear - lastFork;
    return { drainMs: Number(drainNs) / 1e6, peak, wakeups: wakeups(pid1) - switches, cpuMs: (cpuNs(pid1) - cpu) / 1e6 };
  } finally {
    // Killing PID 1 of the namespace kills everything in it; unshare then
    // reaps it and exits by itself, and is reaped by us.
    const gone = new Promise((resolve) => unshare.once('exit', resolve));
    const [pid1] = childPids(outer);
    if (pid1 !== undefined) killTree(pid1);
    else killTree(outer);
    await Promise.race([gone, sleep(5_000).then(() => killTree(outer))]);
  }
}

async function figure(id: string, title: string, subjects: Subject[], runs: number, count: number, helper: string | null): Promise<Figure> {
  const rows: Row[] = [];
  for (const subject of subjects) {
    const storms: Storm[] = [];
    for (let run = 0; run < runs; run++) storms.push(await stormOnce(subject.program, subject.argv, subject.hasChild, count, helper));
    const values = Object.fromEntries((['drainMs', 'peak', 'wakeups', 'cpuMs'] as const).map((key) => [key, stat(storms.map((storm) => storm[key]))]));
    rows.push({ program: subject.program.id, label: subject.label, values });
  }
  return {
    id, title,
    method: `${count.toLocaleString('en')} orphans made in a burst inside the namespace (${helper ? 'bench/helper.c storm' : 'perl'}); the program is PID 1 (unshare --pid --fork --mount-proc). Median and range of ${runs} runs. Drain: from the last orphan's fork to the first sample (every ~1 ms) with none left unreaped. Peak: most unreaped orphans in one sample. Wake-ups and CPU: the reaper's own, all threads, from just before the storm to the end of the drain.`,
    metrics: [
      { key: 'drainMs', label: 'drain', unit: 'ms' }, { key: 'peak', label: 'peak unreaped', unit: '' },
      { key: 'wakeups', label: 'wake-ups', unit: '' }, { key: 'cpuMs', label: 'CPU', unit: 'ms' },
    ],
    rows,
  };
}

export async function reapingFigures(programs: Program[], runs: number, count: number, helper: string | null): Promise<Figure[]> {
  const pauseMode = pauseSubjects(programs.filter((program) => program.id !== 'floor'));
  const initMode = initSubjects(programs, ['sleep', 'infinity']);
  return [
    await figure('4a', 'Reaping as PID 1, pause mode (the floor never reaps: not shown)', pauseMode, runs, count, helper),
    await figure('4b', 'Reaping as PID 1, init mode', initMode, runs, count, helper),
  ];
}
