// npm run bench [-- --quick] [--out DIR] [--only 1,2,3,4,5,6,7] [--name NAME]
// npm run bench -- density [...]: the density bench, bench/density.ts (npm run bench:density)
//
// pause.ts beside tini, dumb-init and catatonit (each when installed) and the
// Node floor. Linux only; root, or under `unshare --user --map-root-user`.
// Installs nothing. Writes DIR/latest.md, latest.json and ratios.svg
// (DIR: bench/results); with --name NAME, DIR/NAME.md, NAME.json and NAME.svg
// (a run of some figures only, kept beside the full run). --quick (or BENCH_QUICK=1): a few iterations, for CI.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildCPause, buildHelper } from './lib/helper.ts';
import { forwardingFigure, pinnedForwardingFigure, QUICK, STEADY, STEADY_PINNED } from './lib/forwarding.ts';
import { idleFigures } from './lib/idle.ts';
import { imageFigure } from './lib/image.ts';
import { ensureFloor, findPrograms } from './lib/programs.ts';
import { reapingFigures } from './lib/reaping.ts';
import { markdown, ratios, svg, targets } from './lib/report.ts';
import { startupFigures } from './lib/startup.ts';
import { runners, windowFigures } from './lib/window.ts';
import type { Figure, Results } from './lib/types.ts';

if (process.argv[2] === 'density') {
  await import('./density.ts');
  process.exit();
}

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: {
  quick: { type: 'boolean', default: process.env['BENCH_QUICK'] === '1' },
  out: { type: 'string', default: join(root, 'bench', 'results') },
  only: { type: 'string', default: '1,2,3,4,5,6,7' },
  name: { type: 'string' },
} });
const quick = values.quick;
const only = new Set(values.only.split(','));
const sizes = quick
  ? { startRuns: 3, instances: 2, windowS: 2, stormRuns: 1, orphans: 300, signals: 40, pace: QUICK, pinned: { signals: 20, pace: QUICK }, window: { warm: 2, cold: 1, quota: 1, small: 1, smallLimitS: 20 } }
  : { startRuns: 40, instances: 20, windowS: 30, stormRuns: 3, orphans: 10_000, signals: 20_000, pace: STEADY, pinned: { signals: 1_000, pace: STEADY_PINNED }, window: { warm: 20, cold: 3, quota: 3, small: 3, smallLimitS: 30 } };

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** One line for the user, not a stack trace; the processes the bench started are killed on exit. */
function fail(message: string, error?: unknown): never {
  const reason = error === undefined ? '' : `: ${(error instanceof Error ? error.message : String(error)).replace(/^bench: /, '').split('\n')[0]}`;
  log(`${message}${reason}`);
  process.exit(1);
}

if (process.platform !== 'linux') fail('Linux only');
const pause = join(root, 'dist', 'pause');
if (!existsSync(pause)) fail('dist/pause is missing: run `npm run build` first');
log('building dist/floor and the helper if needed');
let floor: string;
try {
  floor = ensureFloor(root, pause);
} catch (error) {
  fail('building dist/floor failed (its output is above)', error);
}
const helper = buildHelper(root, join(root, '.tmp', 'bench'));
if (!helper) log('no C compiler: timing start-up from Node and using perl for the child and the storm');
const programs = findPrograms(pause, floor);
log(`programs: ${programs.map((p) => p.id).join(', ')}${quick ? ' (quick)' : ''}`);

const tools: Record<string, string> = {};
for (const program of programs) {
  const out = spawnSync(program.path, program.version, { encoding: 'utf8' });
  tools[program.id] = `${out.stdout}${out.stderr}`.split('\n')[0]?.trim() || '(prints nothing)';
}
const started = Date.now();
const loadAtStart = loadavg();
const figures: Figure[] = [];
const step = async (id: string, what: string, run: () => Figure[] | Promise<Figure[]>) => {
  if (!only.has(id)) return;
  log(what);
  const begin = Date.now();
  try {
    figures.push(...await run());
  } catch (error) {
    fail(`${what} failed`, error);
  }
  log(`${what}: ${((Date.now() - begin) / 1000).toFixed(0)} s`);
};
await step('1', 'start-up', () => startupFigures(programs, sizes.startRuns, helper));
if (only.has('2') || only.has('3')) only.add('2');
await step('2', `idle: ${sizes.instances} instances each, ${sizes.windowS} s`, () => idleFigures(programs, sizes.instances, sizes.windowS));
// Forwarding before the storms: 10,000 exiting processes leave the kernel busy for a while.
await step('5', `forwarding: ${sizes.signals} signals each, SIGUSR1 then SIGUSR2; then pinned`, async () => [
  await forwardingFigure(programs, sizes.signals, helper, 'SIGUSR1', sizes.pace),
  await forwardingFigure(programs, sizes.signals, helper, 'SIGUSR2', sizes.pace),
  ...helper ? [
    await pinnedForwardingFigure(programs, sizes.pinned.signals, helper, 'SIGUSR1', sizes.pinned.pace),
    await pinnedForwardingFigure(programs, sizes.pinned.signals, helper, 'SIGUSR2', sizes.pinned.pace),
  ] : [],
]);
await step('4', `reaping: ${sizes.stormRuns} storms of ${sizes.orphans} orphans each`, () => reapingFigures(programs, sizes.stormRuns, sizes.orphans, helper));
await step('6', 'image', async () => [await imageFigure()]);
// Last: its cold runs drop the page cache.
await step('7', 'start-up window', () => {
  if (!helper) {
    log('start-up window: needs bench/helper.c (a C compiler); not measured');
    return [];
  }
  if (process.getuid?.() !== 0) {
    log('start-up window: needs root (a PID namespace per run, cgroups, drop_caches); not measured');
    return [];
  }
  return windowFigures(helper, runners(programs, buildCPause(root, join(root, '.tmp', 'bench'))), sizes.window, pause);
});

const results: Results = {
  date: new Date().toISOString(),
  quick,
  machine: { kernel: release(), cpus: cpus().length, node: `node ${process.version} (bench)`, load: loadAtStart, loadAtEnd: loadavg() },
  tools,
  figures,
};
mkdirSync(values.out, { recursive: true });
const write = (name: string, text: string) => {
  const file = join(values.out, name);
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
};
const names = values.name ? { md: `${values.name}.md`, json: `${values.name}.json`, svg: `${values.name}.svg` } : { md: 'latest.md', json: 'latest.json', svg: 'ratios.svg' };
write(names.svg, svg(results));
write(names.json, `${JSON.stringify({ ...results, ratios: ratios(figures), targets: targets(figures) }, null, 2)}\n`);
write(names.md, markdown(results, names.svg));
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s: ${join(values.out, names.md)}`);
