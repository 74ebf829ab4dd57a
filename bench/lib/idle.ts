// Figures 2 and 3: memory, threads and wake-ups of idle instances, all alive
// at once (shared pages are shared among them, as on a node full of pods).
import { setTimeout as sleep } from 'node:timers/promises';
import { launch, settle, stop, waitFor } from './processes.ts';
import { childrenOf, memory, wakeups } from './proc.ts';
import { initSubjects, pauseSubjects, type Program } from './programs.ts';
import { stat } from './stats.ts';
import type { Figure, Row } from './types.ts';

export async function idleFigures(programs: Program[], instances: number, windowS: number): Promise<Figure[]> {
  const all = [...pauseSubjects(programs), ...initSubjects(programs, ['sleep', 'infinity'])];
  const children = all.map((subject) => Array.from({ length: instances }, () => launch([subject.program.path, ...subject.argv])));
  const pids = all.map((subject, i) => (children[i] ?? []).map((child) => {
    if (child.pid === undefined) throw new Error(`bench: cannot start ${subject.label}`);
    return child.pid;
  }));
  try {
    await Promise.all(all.map((subject, i) => subject.hasChild
      ? waitFor(`the children of ${subject.label}`, () => (pids[i] ?? []).every((pid) => childrenOf(pid).length > 0))
      : Promise.resolve()));
    const flat = pids.flat();
    // Windows shorter than tini's 1 s wake-up period.
    await settle(flat, 400);
    const before = flat.map(wakeups);
    await sleep(windowS * 1000);
    const after = flat.map(wakeups);
    const woke = new Map(flat.map((pid, i) => [pid, (after[i] ?? 0) - (before[i] ?? 0)]));
    const memoryRows: Row[] = [];
    const wakeRows: Row[] = [];
    all.forEach((subject, i) => {
      const list = pids[i] ?? [];
      const mem = list.map((pid) => {
        const m = memory(pid);
        if (!m) throw new Error(`bench: ${subject.label} (pid ${pid}) died while idle`);
        return m;
      });
      memoryRows.push({ program: subject.program.id, label: subject.label, values: {
        rssAnonKb: stat(mem.map((m) => m.rssAnonKb)), pssKb: stat(mem.map((m) => m.pssKb)), threads: stat(mem.map((m) => m.threads)),
      } });
      wakeRows.push({ program: subject.program.id, label: subject.label, values: { wakeups: stat(list.map((pid) => woke.get(pid) ?? 0)) } });
    });
    const alive = `${instances} instances of each program alive at once (${flat.length} in all)`;
    return [
      { id: '2', title: 'Memory and threads, idle', method: `${alive}; median and range over the instances, read at the end of the idle window. RssAnon from /proc/PID/status, PSS from /proc/PID/smaps_rollup. Init modes run \`sleep infinity\`, which is not counted.`,
        metrics: [{ key: 'rssAnonKb', label: 'anon RSS', unit: 'kB' }, { key: 'pssKb', label: 'PSS', unit: 'kB' }, { key: 'threads', label: 'threads', unit: '' }], rows: memoryRows },
      { id: '3', title: `Idle wake-ups in ${windowS} s`, method: `${alive}; voluntary context switches of all threads over ${windowS} s after start-up has gone quiet; median and range over the instances.`,
        metrics: [{ key: 'wakeups', label: `wake-ups / ${windowS} s`, unit: '' }], rows: wakeRows },
    ];
  } finally {
    await Promise.all(children.flat().map((child) => stop(child)));
  }
}
