// Figure 1: start-up, from fork to the exit being reaped. The programs take
// turns, run after run, so that a slow moment of the machine hits all alike.
import { spawnSync } from 'node:child_process';
import { initSubjects, type Program, type Subject } from './programs.ts';
import { stat } from './stats.ts';
import type { Figure, Row } from './types.ts';

/** Wall time and, with the helper, CPU time (user + system, all threads) of one run, in ms. */
export function timeOnce(helper: string | null, argv: string[]): { ms: number; cpuMs: number | null } {
  if (helper) {
    const out = spawnSync(helper, ['time', ...argv], { encoding: 'utf8' });
    const [ns, status, cpu] = out.stdout.trim().split(' ').map(Number);
    if (out.status !== 0 || status !== 0 || ns === undefined || cpu === undefined) throw new Error(`${argv.join(' ')} failed (wait status ${status})`);
    return { ms: ns / 1e6, cpuMs: cpu / 1e6 };
  }
  const begin = process.hrtime.bigint();
  const out = spawnSync(argv[0] ?? '', argv.slice(1), { stdio: 'ignore' });
  const ms = Number(process.hrtime.bigint() - begin) / 1e6;
  if (out.status !== 0) throw new Error(`${argv.join(' ')} exited ${out.status}`);
  return { ms, cpuMs: null };
}

function measure(subjects: Subject[], runs: number, helper: string | null): Row[] {
  const times = subjects.map(() => [] as number[]);
  const cpu = subjects.map(() => [] as number[]);
  // One untimed run each first: the page cache holds the binaries from then on.
  for (const subject of subjects) timeOnce(helper, [subject.program.path, ...subject.argv]);
  for (let run = 0; run < runs; run++) {
    subjects.forEach((subject, i) => {
      const once = timeOnce(helper, [subject.program.path, ...subject.argv]);
      times[i]?.push(once.ms);
      if (once.cpuMs !== null) cpu[i]?.push(once.cpuMs);
    });
  }
  return subjects.map((subject, i) => ({ program: subject.program.id, label: subject.label, values: {
    ms: stat(times[i] ?? []), cpuMs: cpu[i]?.length ? stat(cpu[i] ?? []) : null,
  } }));
}

export function startupFigures(programs: Program[], runs: number, helper: string | null): Figure[] {
  const timer = helper ? 'bench/helper.c (fork, exec, waitpid; CLOCK_MONOTONIC)' : 'Node spawnSync (no C compiler: includes Node\'s own spawn cost)';
  // CPU time is what the program itself spent; on a busy machine it varies far less than wall time.
  const metrics = [{ key: 'ms', label: 'start-up', unit: 'ms' }, ...(helper ? [{ key: 'cpuMs', label: 'CPU', unit: 'ms' }] : [])];
  const version: Subject[] = programs.map((program) => ({ program, label: `${program.id} ${program.version.join(' ')}`, argv: program.version, hasChild: false }));
  const floor = programs.filter((program) => program.id === 'floor');
  // The floor runs no child: it exits at once, the least a Node init can cost.
  const init = [...initSubjects(programs, ['/bin/true']), ...floor.map((program) => ({ program, label: 'floor (exits)', argv: ['--', '/bin/true'], hasChild: false }))];
  return [
    { id: '1a', title: 'Start-up: print the version and exit', method: `Median and range of ${runs} runs, timed by ${timer}; programs take turns.`, metrics, rows: measure(version, runs, helper) },
    { id: '1b', title: 'Start-up: init mode, run /bin/true and exit', method: `Median and range of ${runs} runs, timed by ${timer}; programs take turns.`, metrics, rows: measure(init, runs, helper) },
  ];
}
