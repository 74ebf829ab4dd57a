// Figure 7: the start-up window, from exec to the moment a SIGTERM would be
// acted on. Until then a SIGTERM to PID 1 is lost: the kernel drops a signal
// PID 1 has no handler for, and Node's own early SIGTERM handler re-raises it
// with the default action, which PID 1 does not get either. Each program runs
// as PID 1 of a new PID namespace (bench/helper.c `window`), which reads its
// /proc status every 200 µs until the sign that its handlers are in place,
// then sends SIGTERM and times the exit. Conditions: idle, beside a busy
// core, after the page cache was dropped, and under CPU quotas.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
    // The floor has no handler to wait for: exec to its exit is Node's least start-up.
    if (p.id === 'floor') out.push({ program: 'floor', label: 'Node floor (exec to exit)', ready: 'exit', argv: [p.path, '-v'] });
    // tini blocks every signal before it spawns; /proc shows no mask while it waits in sigtimedwait.
    if (p.id === 'tini') out.push({ program: 'tini', label: 'tini -- sleep 1000', ready: 'child', argv: [p.path, '--', 'sleep', '1000'] });
  }
  if (cPause) out.push({ program: 'c-pause', label: 'C pause (bench/c-pause.c, -Os -static)', ready: 'sigcgt:17', argv: [cPause] });
  return out;
}

interface Once { readyMs: number; faults: number; stopMs: number }

function once(helper: string, runner: Runner, cgroups: string[], limitS: number): Once {
  const args = ['window', '-T', String(limitS), ...cgroups.flatMap((file) => ['-c', file]), runner.ready, ...runner.argv];
  const out = spawnSync(helper, args, { encoding: 'utf8' });
  const [ready, faults, stopNs, status] = out.stdout.trim().split(' ').map(Number);
  if (out.status !== 0 || ready === undefined || ready < 0 || faults === undefined || stopNs === undefined) {
    throw new Error(`${runner.label}: not ready within ${limitS} s (helper window: ${out.stdout.trim() || out.stderr.trim()})`);
  }
  // The floor exits by itself: no stop to time.
  if (runner.ready !== 'exit' && status !== 0 && status !== 143 << 8) throw new Error(`${runner.label}: wait status ${status} after SIGTERM`);
  return { readyMs: ready / 1e6, faults: runner.ready === 'exit' ? Number.NaN : faults, stopMs: stopNs / 1e6 };
}

let made = 0;

/** A cgroup v1 cpu controller, or the unified tree's, with a quota of `percent` of one CPU. */
function cpuQuota(percent: number): { procs: string; remove(): void } {
  const v1 = '/sys/fs/cgroup/cpu';
  const v2 = !existsSync(join(v1, 'cpu.cfs_quota_us'));
  const dir = join(v2 ? '/sys/fs/cgroup' : v1, `pause-bench-window-${process.pid}-${percent}-${made++}`);
  mkdirSync(dir);
  const period = 100_000;
  const quota = Math.round((period * percent) / 100);
  if (v2) writeFileSync(join(dir, 'cpu.max'), `${quota} ${period}`);
  else {
    writeFileSync(join(dir, 'cpu.cfs_period_us'), String(period));
    writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
  }
  return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
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

export function dropCaches(): void {
  spawnSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

interface Condition { id: string; title: string; runs: number; limitS: number; before?: () => void; cgroup?: () => { procs: string; remove(): void } }

function measure(helper: string, list: readonly Runner[], condition: Condition): Row[] {
  const samples = list.map(() => [] as Once[]);
  const run = (runner: Runner) => {
    condition.before?.();
    // A fresh cgroup for each run, as a container gets: a quota's budget is not carried from one run to the next.
    const cgroup = condition.cgroup?.();
    try {
      return once(helper, runner, cgroup ? [cgroup.procs] : [], condition.limitS);
    } finally {
      cgroup?.remove();
    }
  };
  // One untimed run each first, but for the cold case: the page cache holds the programs from then on.
  if (!condition.before) list.forEach(run);
  for (let i = 0; i < condition.runs; i++) list.forEach((runner, j) => samples[j]?.push(run(runner)));
  return list.map((runner, i) => {
    const s = samples[i] ?? [];
    const faults = s.map((x) => x.faults).filter(Number.isFinite);
    return { program: runner.program, label: runner.label, values: {
      readyMs: stat(s.map((x) => x.readyMs)),
      stopMs: runner.ready === 'exit' ? null : stat(s.map((x) => x.stopMs)),
      faults: faults.length ? stat(faults) : null,
    }, ...(runner.ready === 'exit' ? { note: 'no handlers: exec to exit' } : {}) };
  });
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

export function windowFigures(helper: string, list: readonly Runner[], runs: { warm: number; cold: number; quota: number }, executable: string): Figure[] {
  const root = process.getuid?.() === 0;
  const ra = readAheadKb(executable);
  const conditions: Condition[] = [
    { id: '7a', title: 'idle machine', runs: runs.warm, limitS: 30 },
    { id: '7b', title: 'beside a busy core (a shell loop on one of the CPUs)', runs: runs.warm, limitS: 30 },
    ...(root ? [
      { id: '7c', title: `cold page cache (\`drop_caches\` before each run; read-ahead of the executable's disk: ${ra ?? 'unknown'} kB)`, runs: runs.cold, limitS: 60, before: dropCaches },
      ...[50, 10, 5].map((percent, i) => ({
        id: `7${'def'[i]}`, title: `CPU quota of ${percent} % of one CPU (cpu.cfs_quota_us, period 100 ms)`, runs: runs.quota, limitS: 120,
        cgroup: () => cpuQuota(percent),
      })),
    ] : []),
  ];
  const metrics = [
    { key: 'readyMs', label: 'exec to handlers', unit: 'ms' },
    { key: 'stopMs', label: 'SIGTERM to exit', unit: 'ms' },
    { key: 'faults', label: 'major faults by then', unit: '' },
  ];
  return conditions.map((condition) => ({
    id: condition.id,
    title: `Start-up window: ${condition.title}`,
    method: `Median (range) of ${condition.runs} runs, programs taking turns; each PID 1 of a new PID namespace, its /proc status read every 200 µs by bench/helper.c until its handlers are in place (pause.ts: SIGCHLD ignored, set after its SIGTERM handler; C pause: SIGCHLD caught, set last; tini: its child started, after it blocked its signals), then SIGTERM.`
      + (root ? '' : ' Cold page cache and CPU quotas need root: not measured.'),
    metrics,
    rows: condition.id === '7b' ? besideBusyCore(() => measure(helper, list, condition)) : measure(helper, list, condition),
  }));
}
