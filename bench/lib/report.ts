// latest.md, latest.json's ratios, the targets of issue #4, and the SVG chart.
import { PEERS } from './programs.ts';
import type { Stat } from './stats.ts';
import type { Figure, Results, Row } from './types.ts';

/** a / b, where 0 / 0 is 1 (as good) and x / 0 is Infinity. */
function ratio(a: number, b: number): number {
  if (b === 0) return a === 0 ? 1 : Number.POSITIVE_INFINITY;
  return a / b;
}

export interface Ratio { figure: string; metric: string; label: string; row: string; toFloor: number | null; toBestPeer: number | null; bestPeer: string | null }

export function ratios(figures: Figure[]): Ratio[] {
  const out: Ratio[] = [];
  for (const figure of figures) {
    const floor = figure.rows.find((row) => row.program === 'floor');
    const peers = figure.rows.filter((row) => (PEERS as readonly string[]).includes(row.program));
    for (const metric of figure.metrics) {
      const best = peers.filter((row) => row.values[metric.key]).sort((a, b) => (a.values[metric.key]?.median ?? 0) - (b.values[metric.key]?.median ?? 0))[0];
      for (const row of figure.rows.filter((r) => r.program === 'pause')) {
        const value = row.values[metric.key];
        if (!value) continue;
        const floorValue = floor?.values[metric.key];
        const bestValue = best?.values[metric.key];
        out.push({
          figure: figure.id, metric: metric.key, label: `${figure.id} ${metric.label}`, row: row.label,
          toFloor: floorValue ? ratio(value.median, floorValue.median) : null,
          toBestPeer: bestValue ? ratio(value.median, bestValue.median) : null,
          bestPeer: best?.label ?? null,
        });
      }
    }
  }
  return out;
}

function number(value: number): string {
  if (!Number.isFinite(value)) return '∞';
  if (value === 0) return '0';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function cell(stat: Stat | null | undefined): string {
  if (!stat) return '—';
  if (stat.n === 1 || stat.min === stat.max) return number(stat.median);
  return `${number(stat.median)} (${number(stat.min)}–${number(stat.max)})`;
}

function times(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : `${number(value)}×`;
}

function table(figure: Figure, all: Ratio[]): string {
  const head = ['program', ...figure.metrics.map((m) => `${m.label}${m.unit ? ` (${m.unit})` : ''}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of figure.rows) {
    const label = row.note ? `${row.label} — ${row.note}` : row.label;
    lines.push(`| ${[label, ...figure.metrics.map((m) => cell(row.values[m.key]))].join(' | ')} |`);
  }
  // Under the table, one line of ratios per pause row and reference.
  for (const row of figure.rows.filter((r) => r.program === 'pause')) {
    const mine = all.filter((r) => r.figure === figure.id && r.row === row.label);
    const of = (key: string) => mine.find((r) => r.metric === key);
    if (mine.some((r) => r.toBestPeer !== null)) {
      lines.push(`| *${row.label} ÷ best peer* | ${figure.metrics.map((m) => `${times(of(m.key)?.toBestPeer)}${of(m.key)?.bestPeer ? ` (${of(m.key)?.bestPeer})` : ''}`).join(' | ')} |`);
    }
    if (mine.some((r) => r.toFloor !== null)) {
      lines.push(`| *${row.label} ÷ floor* | ${figure.metrics.map((m) => times(of(m.key)?.toFloor)).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

interface Target { text: string; met: boolean | null; seen: string }

function find(figures: Figure[], id: string, match: (row: Row) => boolean): Row | undefined {
  return figures.find((f) => f.id === id)?.rows.find(match);
}

export function targets(figures: Figure[]): Target[] {
  const isPause = (row: Row) => row.program === 'pause';
  const isFloor = (row: Row) => row.program === 'floor';
  const median = (row: Row | undefined, key: string) => row?.values[key]?.median;
  const list: Target[] = [];
  const within = (text: string, a: number | undefined, b: number | undefined, limit: number) => {
    const r = a !== undefined && b !== undefined ? ratio(a, b) : undefined;
    list.push({ text, met: r === undefined ? null : r <= limit, seen: r === undefined ? 'not measured' : `${number(r)}× (${number(a ?? 0)} vs ${number(b ?? 0)})` });
  };
  within('Start-up `-v` within 1.10× of the floor', median(find(figures, '1a', isPause), 'ms'), median(find(figures, '1a', isFloor), 'ms'), 1.1);
  within('Start-up init `-- /bin/true` within 1.10× of the floor', median(find(figures, '1b', isPause), 'ms'), median(find(figures, '1b', isFloor), 'ms'), 1.1);
  const pauseIdle = find(figures, '2', (row) => isPause(row) && row.label.includes('pause mode'));
  within('Idle anon RSS (pause mode) within 1.10× of the floor', median(pauseIdle, 'rssAnonKb'), median(find(figures, '2', isFloor), 'rssAnonKb'), 1.1);
  const threads = figures.find((f) => f.id === '2')?.rows.filter(isPause).map((row) => row.values['threads']?.max ?? Infinity) ?? [];
  list.push({ text: 'At most 4 threads', met: threads.length ? Math.max(...threads) <= 4 : null, seen: threads.join(', ') || 'not measured' });
  const woke = figures.find((f) => f.id === '3')?.rows.filter(isPause).map((row) => row.values['wakeups']?.max ?? Infinity) ?? [];
  list.push({ text: '0 idle wake-ups (every instance)', met: woke.length ? Math.max(...woke) === 0 : null, seen: woke.join(', ') || 'not measured' });
  const storm = find(figures, '4a', isPause);
  const quiet = [median(storm, 'wakeups'), median(storm, 'cpuMs')];
  list.push({ text: 'Storm, pause mode: 0 wake-ups and 0 CPU', met: quiet.includes(undefined) ? null : quiet.every((v) => v === 0), seen: quiet.map((v) => number(v ?? NaN)).join(' wake-ups, ') + ' ms CPU' });
  within('Storm, init mode: drained no slower than 1.5× catatonit', median(find(figures, '4b', isPause), 'drainMs'), median(find(figures, '4b', (row) => row.program === 'catatonit'), 'drainMs'), 1.5);
  const p99 = median(find(figures, '5', isPause), 'p99');
  list.push({ text: 'Forwarding p99 under 1 ms', met: p99 === undefined ? null : p99 < 1000, seen: p99 === undefined ? 'not measured' : `${number(p99)} µs` });
  within('Forwarding p99 no worse than 2× tini', p99, median(find(figures, '5', (row) => row.program === 'tini'), 'p99'), 2);
  return list;
}

export function markdown(results: Results, chart: string): string {
  const all = ratios(results.figures);
  const parts = [
    `# Benchmark results${results.quick ? ' (quick mode: few iterations, figures not meaningful)' : ''}`,
    '',
    `${results.date} · Linux ${results.machine.kernel} · ${results.machine.cpus} CPUs · load average ${results.machine.load.map((l) => l.toFixed(2)).join(' ')} at the start, ${results.machine.loadAtEnd.map((l) => l.toFixed(2)).join(' ')} at the end${results.figures.some((f) => f.id.startsWith('4')) ? ' (a storm of 10,000 runnable orphans raises it)' : ''} · ${results.machine.node}`,
    '',
    `Programs: ${Object.entries(results.tools).map(([k, v]) => `${k} ${v}`).join(' · ')}. Made by \`npm run bench\` (bench/run.ts). Cells: median (range). "floor": an empty SEA from the same build and execArgv. Ratios are of the medians; 0 ÷ 0 counts as 1×.`,
    '',
    `![ratios](${chart})`,
    '',
    '## Targets (issue #4)',
    '',
    '| target | met | seen |',
    '|---|---|---|',
    ...targets(results.figures).map((t) => `| ${t.text} | ${t.met === null ? '—' : t.met ? 'yes' : 'NO'} | ${t.seen} |`),
  ];
  for (const figure of [...results.figures].sort((a, b) => a.id.localeCompare(b.id))) {
    parts.push('', `## ${figure.id}. ${figure.title}`, '', figure.method, '', table(figure, all));
  }
  return `${parts.join('\n')}\n`;
}

/** Horizontal bars on a log scale: pause ÷ floor and pause ÷ best peer, per figure. */
export function svg(results: Results): string {
  const rows = ratios(results.figures).filter((r) => r.toFloor !== null || r.toBestPeer !== null);
  const width = 920;
  const left = 330;
  const plot = width - left - 30;
  const rowHeight = 30;
  const top = 50;
  const height = top + rows.length * rowHeight + 40;
  const lo = -2; // 0.01×
  const hi = 3; // 1000×
  const x = (value: number) => {
    const v = value <= 0 ? lo : Number.isFinite(value) ? Math.min(hi, Math.max(lo, Math.log10(value))) : hi;
    return Math.round((left + ((v - lo) / (hi - lo)) * plot) * 10) / 10;
  };
  const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">pause.ts ÷ Node floor (blue) and ÷ best C peer (orange), log scale; 1× = as good</text>`,
    `<text x="10" y="38" fill="#555">${esc(`${results.date.slice(0, 10)}, Linux ${results.machine.kernel}, ${results.machine.cpus} CPUs${results.quick ? ', QUICK MODE' : ''}`)}</text>`,
  ];
  for (let p = lo; p <= hi; p++) {
    const gx = x(10 ** p);
    out.push(`<line x1="${gx}" y1="${top - 5}" x2="${gx}" y2="${height - 30}" stroke="${p === 0 ? '#000' : '#ddd'}"/>`, `<text x="${gx}" y="${height - 15}" text-anchor="middle">${10 ** p}×</text>`);
  }
  rows.forEach((r, i) => {
    const y = top + i * rowHeight;
    out.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${esc(`${r.label} · ${r.row.replace(/ CHILD$| sleep infinity$/, '')}`.slice(0, 52))}</text>`);
    const bar = (value: number | null, dy: number, colour: string) => {
      if (value === null) return;
      const x0 = x(1);
      const x1 = x(value);
      out.push(`<rect x="${Math.min(x0, x1)}" y="${y + dy}" width="${Math.max(1, Math.abs(x1 - x0))}" height="11" fill="${colour}"/>`,
        `<text x="${Math.max(x0, x1) + 3}" y="${y + dy + 10}" font-size="10">${number(value)}×</text>`);
    };
    bar(r.toFloor, 3, '#3b6fb6');
    bar(r.toBestPeer, 15, '#e08a2c');
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
