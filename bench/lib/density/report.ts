// density.json's summaries, density.md and the plot (density.svg).
import { quantile } from '../stats.ts';
import type { FitResult } from './fit.ts';
import { METRICS, type Sample } from './measure.ts';
import type { ColdResult, ImageKey, SeriesResult } from './series.ts';

export interface DensityResults {
  date: string;
  machine: { kernel: string; cpus: number; memTotalKb: number; load: number[]; loadAtEnd: number[] };
  runtime: { containerd: string; runc: string; cgroup: string; parallel: number };
  images: Record<ImageKey, { image: string; what: string }>;
  series: SeriesResult[];
  cold: ColdResult[];
  fit: FitResult[];
  /** What the bench made and removed again: for the smoke test to check they are gone. */
  made: { cgroupRoot: string; peerImage: string; containerdDirs: string[] };
  /** Wall time of the whole bench, s. */
  tookS: number;
}

export interface Spread { median: number; p95: number; min: number; max: number; total: number }

function spread(values: readonly number[]): Spread {
  return { median: quantile(values, 0.5), p95: quantile(values, 0.95), min: Math.min(...values), max: Math.max(...values), total: values.reduce((a, b) => a + b, 0) };
}

export interface Summary {
  image: ImageKey;
  n: number;
  runMs: Spread;
  wallReadyS: number;
  wallUpS: number;
  perSandbox: Record<keyof Sample, Spread>;
  /** MemAvailable before minus after, ÷ N: what each pod took from the node, shim and runtime included. */
  nodeKbPerPod: number;
  stopRemoveMs: Spread;
  stopRemoveWallS: number;
  leftovers: string[];
}

export function summarise(s: SeriesResult): Summary {
  const perSandbox = Object.fromEntries(METRICS.map((m) => [m.key, spread(s.samples.map((x) => x[m.key]))])) as Record<keyof Sample, Spread>;
  return {
    image: s.image, n: s.n, runMs: spread(s.runMs), wallReadyS: s.wallReadyMs / 1000, wallUpS: s.wallUpMs / 1000, perSandbox,
    nodeKbPerPod: (s.memAvailableBeforeKb - s.memAvailableAfterKb) / s.n,
    stopRemoveMs: spread(s.stopRemoveMs), stopRemoveWallS: s.stopRemoveWallMs / 1000, leftovers: s.leftovers,
  };
}

function num(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return '∞';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return value.toLocaleString('en', { maximumFractionDigits: digits });
}

/** a ÷ b, where 0 ÷ 0 is 1 and x ÷ 0 is ∞; NaN (shown —) when either is negative (a MemAvailable that rose meanwhile). */
const ratio = (a: number, b: number) => (a < 0 || b < 0 ? Number.NaN : b === 0 ? (a === 0 ? 1 : Number.POSITIVE_INFINITY) : a / b);

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function perSandboxTable(summaries: Summary[], counts: number[]): string[] {
  const head = ['image', 'N', 'RunPodSandbox median (ms)', 'p95 (ms)', 'all READY (s)', 'all up (s)',
    ...METRICS.map((m) => `${m.label}${m.unit ? ` (${m.unit})` : ''}`), 'node MemAvailable ÷ N (kB)', 'stop+remove median (ms)', 'stop+remove all (s)'];
  const lines = [row(head), row(head.map(() => '---'))];
  const cellsOf = (s: Summary) => [num(s.runMs.median), num(s.runMs.p95), num(s.wallReadyS), num(s.wallUpS),
    ...METRICS.map((m) => num(s.perSandbox[m.key].median)), num(s.nodeKbPerPod), num(s.stopRemoveMs.median), num(s.stopRemoveWallS)];
  for (const n of counts) {
    const ours = summaries.find((s) => s.image === 'pause' && s.n === n);
    const peer = summaries.find((s) => s.image === 'catatonit' && s.n === n);
    if (ours) lines.push(row(['pause.ts', String(n), ...cellsOf(ours)]));
    if (peer) lines.push(row(['catatonit', String(n), ...cellsOf(peer)]));
    if (ours && peer) {
      const values = (s: Summary) => [s.runMs.median, s.runMs.p95, s.wallReadyS, s.wallUpS, ...METRICS.map((m) => s.perSandbox[m.key].median), s.nodeKbPerPod, s.stopRemoveMs.median, s.stopRemoveWallS];
      const b = values(peer);
      lines.push(row(['*pause.ts ÷ catatonit*', String(n), ...values(ours).map((v, i) => { const r = ratio(v, b[i] ?? 0); return Number.isNaN(r) ? '—' : `*${num(r)}×*`; })]));
    }
  }
  return lines;
}

function totalsTable(summaries: Summary[]): string[] {
  const keys = ['rssAnonKb', 'pssKb', 'cgUsageKb', 'cgFileKb', 'threads', 'pids', 'shimRssKb'] as const;
  const head = ['image', 'N', ...keys.map((k) => METRICS.find((m) => m.key === k)?.label ?? k).map((l, i) => `${l}${keys[i]?.endsWith('Kb') ? ' (MB)' : ''}`), 'node MemAvailable drop (MB)'];
  const lines = [row(head), row(head.map(() => '---'))];
  for (const s of summaries) {
    lines.push(row([s.image === 'pause' ? 'pause.ts' : 'catatonit', String(s.n),
      ...keys.map((k) => num(k.endsWith('Kb') ? s.perSandbox[k].total / 1000 : s.perSandbox[k].total)), num((s.nodeKbPerPod * s.n) / 1000)]));
  }
  return lines;
}

export function markdown(results: DensityResults, chart: string): string {
  const summaries = results.series.map(summarise);
  const counts = [...new Set(results.series.map((s) => s.n))].sort((a, b) => a - b);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  const label = (key: ImageKey) => (key === 'pause' ? 'pause.ts' : 'catatonit');
  const left = [...results.series.flatMap((s) => s.leftovers), ...results.cold.flatMap((c) => c.leftovers)];
  const parts = [
    '# What a pause.ts pod costs: density through containerd\'s CRI',
    '',
    `${results.date} · Linux ${results.machine.kernel} · ${results.machine.cpus} CPUs · ${num(results.machine.memTotalKb / 1e6)} GB · **load average ${load(results.machine.load)} at the start** (1, 5, 15 min; a machine shared with other developers), ${load(results.machine.loadAtEnd)} at the end · took ${num(results.tookS)} s`,
    '',
    `Runtime: ${results.runtime.containerd}, ${results.runtime.runc}, each image the \`sandbox_image\` of a private containerd; RunPodSandbox with a host-network pod sharing its PID namespace (read-only root, uid 65535), ${results.runtime.parallel} at a time, each sandbox under a parent cgroup of its own (as a kubelet's pod cgroup). Cgroup figures: ${results.runtime.cgroup}.`,
    '',
    `- **pause.ts**: \`${results.images.pause.image}\` — ${results.images.pause.what}`,
    `- **catatonit**: \`${results.images.catatonit.image}\` — ${results.images.catatonit.what}`,
    '',
    `Made by \`npm run bench:density\` (bench/density.ts). Cells are medians over the N sandboxes of a run. "all up": until every pause sleeps with SIGCHLD ignored or blocked (started, not merely READY). "node MemAvailable ÷ N": the drop of /proc/meminfo MemAvailable from before the first RunPodSandbox to after all were up, per pod — shim, runc and containerd's bookkeeping included, and noisy on a shared machine. Ratios are pause.ts ÷ catatonit.`,
    '',
    `![per-sandbox memory and start latency against N](${chart})`,
    '',
    '## Per sandbox',
    '',
    ...perSandboxTable(summaries, counts),
    '',
    '## In total, for N sandboxes',
    '',
    ...totalsTable(summaries),
    '',
    '## The first sandbox from a cold page cache',
    '',
    'Reported apart: `sync; echo 3 > /proc/sys/vm/drop_caches`, then one sandbox; RunPodSandbox, and until its pause is up.',
    '',
    row(['image', 'caches dropped', 'RunPodSandbox (ms)', 'until up (ms)', ...METRICS.map((m) => `${m.label}${m.unit ? ` (${m.unit})` : ''}`)]),
    row(['---', '---', '---', '---', ...METRICS.map(() => '---')]),
    ...results.cold.map((c) => row([label(c.image), c.dropped ? 'yes' : 'no (not root)', num(c.runMs), num(c.upMs), ...METRICS.map((m) => num(c.sample[m.key]))])),
    '',
    '## The smallest pod it fits',
    '',
    `The lowest memory limit on the pod's cgroup (the sandbox's cgroup_parent; ${results.runtime.cgroup.startsWith('cgroup v1') ? 'memory.limit_in_bytes' : 'memory.max'}) at which the pause starts, reaps ${results.fit[0]?.orphans ?? 0} orphans made in its PID namespace (from the host, by \`nsenter\`; the storm's shells are not charged to the pod) and exits on SIGTERM, with no OOM kill in the pod. Bisection. Warm rows: the page cache already holds the image, whose pages stay charged to whoever read them first. The limit also covers \`runc init\`, which runs in the sandbox's cgroup before it executes the pause.`,
    '',
    'Cold rows: the page cache dropped before each trial, so the pod is charged for every page of the executable its start reads (the first pod on a node, or the first after those pages were evicted). "Up" is from RunPodSandbox\'s return to the pause up; "SIGTERM to exit" includes writing its line to the log.',
    '',
    row(['image', 'page cache', 'fits in', 'up (ms)', 'SIGTERM to exit (ms)', 'does not fit in', 'trials']),
    row(['---', '---', '---', '---', '---', '---', '---']),
    ...results.fit.map((f) => {
      const fitting = f.trials.find((t) => t.limitKb === f.limitKb);
      return row([label(f.image), f.cold ? '**cold**' : 'warm', f.limitKb === null ? 'not found' : `${num(f.limitKb / 1024)} MiB`,
        fitting?.upMs === undefined ? '—' : num(fitting.upMs), fitting?.stopMs === undefined ? '—' : num(fitting.stopMs),
        f.failedKb === null ? '—' : `${num(f.failedKb / 1024)} MiB (${f.trials.find((t) => t.limitKb === f.failedKb)?.why ?? ''})`, String(f.trials.length)]);
    }),
    '',
    '## Left behind',
    '',
    left.length === 0 ? 'Nothing: after every run no sandbox was listed, no shim, sandbox process, mount or cgroup of it was left.' : left.map((l) => `- ${l}`).join('\n'),
  ];
  return `${parts.join('\n')}\n`;
}

/** Two panels against N: per-sandbox memory (log scale) and RunPodSandbox latency, pause.ts and catatonit. */
export function svg(results: DensityResults): string {
  const summaries = results.series.map(summarise);
  const counts = [...new Set(summaries.map((s) => s.n))].sort((a, b) => a - b);
  const colours: Record<ImageKey, string> = { pause: '#3b6fb6', catatonit: '#e08a2c' };
  const panelW = 420;
  const panelH = 260;
  const top = 70;
  const left = 70;
  const gap = 90;
  const width = left + panelW * 2 + gap + 30;
  const height = top + panelH + 60;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Per pod sandbox against N: pause.ts (blue) and catatonit -P (orange), through containerd's CRI</text>`,
    `<text x="10" y="38" fill="#555">${results.date.slice(0, 10)}, Linux ${results.machine.kernel}, ${results.machine.cpus} CPUs, load ${results.machine.load[0]?.toFixed(2)} at the start; medians over the N sandboxes</text>`,
  ];
  const xAt = (x0: number, i: number) => x0 + (counts.length === 1 ? panelW / 2 : (i / (counts.length - 1)) * (panelW - 40) + 20);
  const panel = (x0: number, title: string, unit: string, series: { key: ImageKey; dash: string; value: (s: Summary) => number }[], log: boolean) => {
    const values = summaries.flatMap((s) => series.filter((l) => l.key === s.image).map((l) => l.value(s))).filter((v) => v > 0);
    const lo = log ? Math.floor(Math.log10(Math.min(...values))) : 0;
    const hi = log ? Math.ceil(Math.log10(Math.max(...values))) : Math.max(...values) * 1.15;
    const y = (v: number) => {
      const f = log ? (Math.log10(Math.max(v, 10 ** lo)) - lo) / Math.max(1, hi - lo) : v / (hi || 1);
      return Math.round((top + panelH - f * panelH) * 10) / 10;
    };
    out.push(`<text x="${x0}" y="${top - 12}" font-weight="bold">${title} (${unit}${log ? ', log scale' : ''})</text>`,
      `<rect x="${x0}" y="${top}" width="${panelW}" height="${panelH}" fill="none" stroke="#999"/>`);
    const ticks = log ? Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i)) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * hi);
    for (const t of ticks) out.push(`<line x1="${x0}" y1="${y(t)}" x2="${x0 + panelW}" y2="${y(t)}" stroke="#eee"/>`, `<text x="${x0 - 5}" y="${y(t) + 4}" text-anchor="end" font-size="10">${num(t)}</text>`);
    counts.forEach((n, i) => out.push(`<text x="${xAt(x0, i)}" y="${top + panelH + 16}" text-anchor="middle">N = ${n}</text>`));
    for (const line of series) {
      const points = counts.map((n, i) => {
        const s = summaries.find((x) => x.image === line.key && x.n === n);
        return s ? `${xAt(x0, i)},${y(line.value(s))}` : undefined;
      }).filter(Boolean);
      out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${colours[line.key]}" stroke-width="2" stroke-dasharray="${line.dash}"/>`);
      for (const point of points) out.push(`<circle cx="${point?.split(',')[0]}" cy="${point?.split(',')[1]}" r="3" fill="${colours[line.key]}"/>`);
    }
  };
  const keys: ImageKey[] = ['pause', 'catatonit'];
  panel(left, 'Memory per sandbox', 'kB', keys.flatMap((key) => [
    { key, dash: '', value: (s: Summary) => s.perSandbox.cgUsageKb.median },
    { key, dash: '5 3', value: (s: Summary) => s.perSandbox.rssAnonKb.median },
  ]), true);
  panel(left + panelW + gap, 'RunPodSandbox latency, median', 'ms', keys.map((key) => ({ key, dash: '', value: (s: Summary) => s.runMs.median })), false);
  out.push(`<text x="${left}" y="${height - 12}" fill="#555">Memory: solid = the sandbox cgroup's charge, dashed = the pause's anon RSS. Latency: ${results.runtime.parallel} RunPodSandbox calls in flight.</text>`, '</svg>');
  return `${out.join('\n')}\n`;
}
