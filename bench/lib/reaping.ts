// Figure 4: a storm of orphans re-parented to the program as PID 1 of a new
// PID namespace (as in a pod), made from inside it by `helper storm`.
import { realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stormCommand } from './helper.ts';
import { killTree, launch, settle, waitFor } from './processes.ts';
import { childrenOf, cpuNs, exeOf, isZombie, wakeups } from './proc.ts';
import { initSubjects, pauseSubjects, type Program, type Subject } from './programs.ts';
import { stat } from './stats.ts';
import type { Figure, Row } from './types.ts';

const rootless = process.getuid?.() !== 0;
/** How many orphans' states are read per sample to estimate the zombies among them. */
const ZOMBIE_SAMPLE = 40;

interface Storm { drainMs: number; peak: number; wakeups: number; cpuMs: number }

async function stormOnce(program: Program, argv: string[], hasChild: boolean, count: number, helper: string | null): Promise<Storm> {
  const unshare = launch(['unshare', ...(rootless ? ['--user', '--map-root-user'] : []), '--pid', '--fork', '--mount-proc', program.path, ...argv]);
  const outer = unshare.pid;
  if (outer === undefined) throw new Error('bench: unshare did not start');
  try {
    const binary = realpathSync(program.path);
    // Until it has exec'd, the child of unshare is a copy of unshare.
    const pid1 = await waitFor(`${program.id} as PID 1`, () => childrenOf(outer).find((pid) => exeOf(pid) === binary));
    if (hasChild) await waitFor(`the child of ${program.id}`, () => childrenOf(pid1).length > 0);
    await settle([pid1], 300);
    // The command (init mode) comes first in the children lists; orphans after it.
    const baseline = childrenOf(pid1).length;
    const switches = wakeups(pid1);
    const cpu = cpuNs(pid1);

    const generator = launch(['nsenter', '--target', String(pid1), ...(rootless ? ['--user'] : []), '--pid', '--', ...stormCommand(helper, count)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    generator.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    let done = false;
    generator.on('exit', () => { done = true; });

    // Sampled every millisecond or so: the orphans not yet released, and
    // among them the zombies, estimated from a few dozen of them per sample
    // (reading the state of thousands each millisecond would load the machine).
    let peak = 0;
    let cleared = 0n;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const orphans = childrenOf(pid1).slice(baseline);
      const step = Math.max(1, Math.floor(orphans.length / ZOMBIE_SAMPLE));
      let sampled = 0;
      let zombies = 0;
      for (let i = 0; i < orphans.length; i += step) {
        sampled++;
        if (isZombie(orphans[i] ?? 0)) zombies++;
      }
      if (sampled > 0) peak = Math.max(peak, Math.round((orphans.length * zombies) / sampled));
      if (done && orphans.length === 0) { cleared = process.hrtime.bigint(); break; }
      if (Date.now() > deadline) throw new Error(`bench: ${program.id} did not reap the storm within 120 s`);
      await sleep(1);
    }
    const released = BigInt(output.trim() || '0');
    if (released === 0n) throw new Error('bench: the storm generator failed');
    const drainNs = cleared - released;
    return { drainMs: Number(drainNs) / 1e6, peak, wakeups: wakeups(pid1) - switches, cpuMs: (cpuNs(pid1) - cpu) / 1e6 };
  } finally {
    // Killing PID 1 of the namespace kills everything in it; unshare then
    // reaps it and exits by itself, and is reaped by us.
    const gone = new Promise((resolve) => unshare.once('exit', resolve));
    const [pid1] = childrenOf(outer);
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
    method: `${count.toLocaleString('en')} orphans of the program, as PID 1 (unshare --pid --fork --mount-proc), exit all at once (${helper ? '`bench/helper.c storm`' : 'perl'}: made inside the namespace, left to PID 1, then released together through a pipe). Median and range of ${runs} runs. Drain: from the release to the first sample (every ~1 ms) with no orphan left, alive or zombie. Peak zombies: the most in one sample, estimated from the states of ${ZOMBIE_SAMPLE} orphans per sample. Wake-ups (voluntary context switches) and CPU: the reaper's own, all threads, from before the orphans are made to the end of the drain.`,
    metrics: [
      { key: 'drainMs', label: 'drain', unit: 'ms' }, { key: 'peak', label: 'peak zombies', unit: '' },
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
