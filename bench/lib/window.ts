// Figure 7: the start-up window, from exec to the moment a SIGTERM would be
// acted on. Until then a SIGTERM to PID 1 is lost: the kernel drops a signal
// PID 1 has no handler for, and Node's own early SIGTERM handler re-raises it
// with the default action, which PID 1 does not get either. Each program runs
// as PID 1 of a new PID namespace (bench/helper.c `window`), which reads its
// /proc status every 200 µs until the sign that its handlers are in place,
// then sends SIGTERM and times the exit. Conditions: idle, beside a busy
// core, after the page cache was dropped, and under CPU quotas.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dropCaches } from './density/series.ts';
import { cpuQuota, memoryLimit, type RunCgroup } from './window-cgroups.ts';
import type { Program, ProgramId } from './programs.ts';
import { stat } from './stats.ts';
import type { Figure, Row } from './types.ts';

/** How each program is run and what shows that it is ready for a SIGTERM. */
interface Runner { program: ProgramId; label: string; ready: string; argv: string[] }

export function runners(programs: readonly Program[], cPause: string | null): Runner[] {
  const out: Runner[] = [];
  for (const p of programs) {
    // Pause mode sets its SIGTERM handler, then SIGCHLD to SIG_IGN (src/pause.ts).
    if (p.id === 'pause') out.push({ program: 'pause', label: 'pause.ts (pause mode)', ready: 'sigign:17', argv: [p.path] });
    // Init mode sets its handlers, then spawns: its child is the sign (src/init.ts).
    if (p.id === 'pause') out.push({ program: 'pause', label: 'pause.ts -- sleep 1000 (init mode)', ready: 'child', argv: [p.path, '--', 'sleep', '1000'] });
    // The floor has no handler to wait for: exec to its exit is Node's least start-up.
    if (p.id === 'floor') out.push({ program: 'floor', label: 'Node floor (exec to exit)', ready: 'exit', argv: [p.path, '-v'] });
    // tini blocks every signal before it spawns; /proc shows no mask while it waits in sigtimedwait.
    if (p.id === 'tini') out.push({ program: 'tini', label: 'tini -- sleep 1000', ready: 'child', argv: [p.path, '--', 'sleep', '1000'] });
  }
  if (cPause) out.push({ program: 'c-pause', label: 'C pause (bench/c-pause.c, -Os -static)', ready: 'sigcgt:17', argv: [cPause] });
  return out;
}

interface Once { readyMs: number; faults: number; stopMs: number; peakKb: number; killed: boolean }

/** One run; readyMs is NaN when the program was not ready within limitS (a thrashing start in a small pod). */
function once(helper: string, runner: Runner, cgroup: RunCgroup | undefined, limitS: number): Once {
  const args = ['window', '-T', String(limitS), ...(cgroup ? ['-c', cgroup.procs] : []), runner.ready, ...runner.argv];
  const out = spawnSync(helper, args, { encoding: 'utf8' });
  const [ready, faults, stopNs, status] = out.stdout.trim().split(' ').map(Number);
  if (out.status !== 0 || ready === undefined || faults === undefined || stopNs === undefined || status === undefined) {
    throw new Error(`${runner.label}: helper window failed: ${out.stdout.trim() || out.stderr.trim()}`);
  }
  const peakKb = cgroup?.peakKb?.() ?? Number.NaN;
  if (ready < 0) return { readyMs: Number.NaN, faults: Number.NaN, stopMs: Number.NaN, peakKb, killed: false };
  // Not gone within 10 s of the SIGTERM (Docker's stop timeout): the helper sent SIGKILL.
  const killed = runner.ready !== 'exit' && (status & 0x7f) === 9;
  // The floor exits by itself: no stop to time. tini exits as its child did, 143.
  if (runner.ready !== 'exit' && !killed && status !== 0 && status !== 143 << 8) throw new Error(`${runner.label}: wait status ${status} after SIGTERM`);
  const stopMs = runner.ready === 'exit' || killed ? Number.NaN : stopNs / 1e6;
  return { readyMs: ready / 1e6, faults: runner.ready === 'exit' ? Number.NaN : faults, stopMs, peakKb, killed };
}

/** The read-ahead of the block device holding `file` (kB), or null when unknown. */
export function readAheadKb(file: string): number | null {
  const dev = statSync(file).dev;
  const [major, minor] = [Math.floor(dev / 256) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00)];
  for (const path of [`/sys/dev/block/${major}:${minor}/queue/read_ahead_kb`, `/sys/dev/block/${major}:${minor}/../queue/read_ahead_kb`]) {
    if (existsSync(path)) return Number(readFileSync(path, 'utf8').trim());
  }
  return null;
}

interface Condition {
  id: string;
  title: string;
  runs: number;
  limitS: number;
  /** Run before each run of `runner` (drop the page cache, warm it up). */
  before?: (runner: Runner) => void;
  cgroup?: () => RunCgroup;
}

/**
 * The warm-up docs/benchmarks.md gives operators (`vmtouch -t FILE`): every
 * page of the file read once, here by the bench itself, so that the pages are
 * charged to the bench's cgroup and not to the run's.
 */
function warmUp(file: string): void {
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(2 ** 20);
  try {
    while (readSync(fd, chunk, 0, chunk.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

/** Medians and spreads of the runs that got ready; a note says how many did not. */
function row(runner: Runner, samples: readonly Once[], limitS: number): Row {
  const ready = samples.filter((x) => Number.isFinite(x.readyMs));
  const of = (values: number[]) => (values.some(Number.isFinite) ? stat(values.filter(Number.isFinite)) : null);
  const notes = [
    ...(runner.ready === 'exit' ? ['no handlers: exec to exit'] : []),
    ...(ready.length < samples.length ? [`not ready within ${limitS} s in ${samples.length - ready.length} of ${samples.length} runs`] : []),
    ...(samples.some((x) => x.killed) ? [`not exited within 10 s of the SIGTERM in ${samples.filter((x) => x.killed).length} of ${samples.length} runs`] : []),
  ];
  return { program: runner.program, label: runner.label, values: {
    readyMs: of(ready.map((x) => x.readyMs)),
    stopMs: of(ready.map((x) => x.stopMs)),
    faults: of(ready.map((x) => x.faults)),
    ...(samples.some((x) => Number.isFinite(x.peakKb)) ? { peakKb: of(samples.map((x) => x.peakKb)) } : {}),
  }, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

function measure(helper: string, list: readonly Runner[], condition: Condition): Row[] {
  const samples = list.map(() => [] as Once[]);
  const run = (runner: Runner) => {
    condition.before?.(runner);
    // A fresh cgroup for each run, as a container gets: a quota's budget is not carried from one run to the next.
    const cgroup = condition.cgroup?.();
    try {
      return once(helper, runner, cgroup, condition.limitS);
    } finally {
      cgroup?.remove();
    }
  };
  // One untimed run each first, but where each run prepares the cache itself: the page cache holds the programs from then on.
  if (!condition.before) list.forEach(run);
  for (let i = 0; i < condition.runs; i++) list.forEach((runner, j) => samples[j]?.push(run(runner)));
  return list.map((runner, i) => row(runner, samples[i] ?? [], condition.limitS));
}

/** One CPU kept busy by a shell loop while `fn` runs. */
function besideBusyCore<T>(fn: () => T): T {
  const busy = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
  try {
    return fn();
  } finally {
    busy.kill('SIGKILL');
  }
}

export interface WindowRuns { warm: number; cold: number; quota: number; small: number; smallLimitS: number }

/** The conditions that change the page cache or run in cgroups. */
function rootConditions(runs: WindowRuns, ra: number | null): Condition[] {
  const cold = () => void dropCaches();
  return [
    { id: '7c', title: `cold page cache (\`drop_caches\` before each run; read-ahead of the executable's disk: ${ra ?? 'unknown'} kB)`, runs: runs.cold, limitS: 60, before: cold },
    ...[50, 10, 5].map((percent, i) => ({
      id: `7${'def'[i]}`, title: `CPU quota of ${percent} % of one CPU (cpu.cfs_quota_us, period 100 ms)`, runs: runs.quota, limitS: 120,
      cgroup: () => cpuQuota(percent),
    })),
    ...[32, 16].map((mib, i) => ({
      id: `7${'gh'[i]}`, title: `cold page cache, in a ${mib} MiB memory cgroup (a small pod, the first on its node)`, runs: runs.small, limitS: runs.smallLimitS,
      before: cold, cgroup: () => memoryLimit(mib),
    })),
    { id: '7i', title: '16 MiB memory cgroup after the warm-up (page cache dropped, then the executable read once from outside the cgroup, as `vmtouch -t` does)', runs: runs.small, limitS: runs.smallLimitS,
      before: (runner) => { cold(); warmUp(runner.argv[0] ?? ''); }, cgroup: () => memoryLimit(16) },
  ];
}

export function windowFigures(helper: string, list: readonly Runner[], runs: WindowRuns, executable: string): Figure[] {
  // Root only (bench/run.ts): each run is PID 1 of a new PID namespace, in cgroups of its own.
  const conditions: Condition[] = [
    { id: '7a', title: 'idle machine', runs: runs.warm, limitS: 30 },
    { id: '7b', title: 'beside a busy core (a shell loop on one of the CPUs)', runs: runs.warm, limitS: 30 },
    ...rootConditions(runs, readAheadKb(executable)),
  ];
  const metrics = [
    { key: 'readyMs', label: 'exec to handlers', unit: 'ms' },
    { key: 'stopMs', label: 'SIGTERM to exit', unit: 'ms' },
    { key: 'faults', label: 'major faults by then', unit: '' },
  ];
  const peak = { key: 'peakKb', label: 'cgroup memory peak', unit: 'kB' };
  return conditions.map((condition) => ({
    id: condition.id,
    title: `Start-up window: ${condition.title}`,
    method: `Median (range) of ${condition.runs} runs, programs taking turns; each PID 1 of a new PID namespace, its /proc status read every 200 µs by bench/helper.c until its handlers are in place (pause mode: SIGCHLD ignored, set after its SIGTERM handler; init mode and tini: the child started, after the handlers; C pause: SIGCHLD caught, set last), then SIGTERM.`,
    metrics: condition.cgroup && condition.id >= '7g' ? [...metrics, peak] : metrics,
    rows: condition.id === '7b' ? besideBusyCore(() => measure(helper, list, condition)) : measure(helper, list, condition),
  }));
}
