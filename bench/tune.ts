// tsx bench/tune.ts [--runs N] [--signals N] [--variants NAME,NAME] [--out FILE]
//
// The measured choices behind scripts/sea-flags.ts and the SEA config: builds
// the current bundle (build/<arch>/pause/bundle.cjs, from `npm run build`) into
// variant executables, each with one change, and measures start-up, idle
// memory and threads, and forwarding latency of each, taking turns.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { arch, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SEA_EXEC_ARGV } from '../scripts/sea-flags.ts';
import { latenciesTakingTurns, STEADY } from './lib/forwarding.ts';
import { buildHelper, receiverCommand } from './lib/helper.ts';
import { launch, settle, stop } from './lib/processes.ts';
import { memory } from './lib/proc.ts';
import { quantile } from './lib/stats.ts';
import { timeOnce } from './lib/startup.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '30' },
  signals: { type: 'string', default: '500' },
  // Comma-separated names of the variants to measure (default: all).
  variants: { type: 'string' },
  out: { type: 'string', default: join(root, 'bench', 'results', 'tuning.md') },
} });
const runs = Number(values.runs);
const work = join(root, '.tmp', 'tune');
mkdirSync(work, { recursive: true });
const base = join(root, 'build', arch(), `node-${process.versions.node}-stripped`);
const pauseBundle = join(root, 'build', arch(), 'pause', 'bundle.cjs');
function fail(message: string): never {
  process.stderr.write(`tune: ${message}\n`);
  process.exit(1);
}
if (!existsSync(base) || !existsSync(pauseBundle)) fail('run `npm run build` first');
const helper = buildHelper(root, join(root, '.tmp', 'bench')) ?? fail('needs a C compiler (cc) for CPU times');

// The floor as a snapshot: its script runs from a V8 startup snapshot instead of being compiled.
const floorBundle = join(work, 'floor.cjs');
writeFileSync(floorBundle, 'if (process.argv.length > 2) process.exit(0); setInterval(() => {}, 2 ** 31 - 1);\n');
const snapshotBundle = join(work, 'floor-snapshot.cjs');
writeFileSync(snapshotBundle, "require('node:v8').startupSnapshot.setDeserializeMainFunction(() => { if (process.argv.length > 2) process.exit(0); setInterval(() => {}, 2 ** 31 - 1); });\n");

interface Variant {
  name: string; main: string; execArgv: readonly string[]; useCodeCache: boolean; useSnapshot?: boolean; forwards: boolean;
  /** Make the code cache in a Node started without execArgv (as the build did until the cache was found rejected). */
  plainBuilder?: boolean;
}
const pause = (name: string, extra: string[], useCodeCache = true): Variant => ({ name, main: pauseBundle, execArgv: [...SEA_EXEC_ARGV, ...extra], useCodeCache, forwards: true });
/** pause as built but for one of its own flags. */
const without = (flag: string): Variant => ({ ...pause(`without ${flag}`, []), execArgv: SEA_EXEC_ARGV.filter((f) => f !== flag) });
const allVariants: Variant[] = [
  pause('pause as built', []),
  without('--v8-pool-size=1'),
  pause('useCodeCache: false', [], false),
  { ...pause('code cache made without the flags', []), plainBuilder: true },
  without('--no-lazy'),
  pause('--max-semi-space-size=1', ['--max-semi-space-size=1']),
  pause('--max-old-space-size=16', ['--max-old-space-size=16']),
  without('--single-threaded'),
  without('--jitless'),
  pause('--disable-wasm-trap-handler', ['--disable-wasm-trap-handler']),
  pause('--lite-mode', ['--lite-mode']),
  pause('--no-opt', ['--no-opt']),
  pause('--max-lazy', ['--max-lazy']),
  { name: 'floor', main: floorBundle, execArgv: SEA_EXEC_ARGV, useCodeCache: true, forwards: false },
  { name: 'floor, useSnapshot', main: snapshotBundle, execArgv: SEA_EXEC_ARGV, useCodeCache: false, useSnapshot: true, forwards: false },
];

const wanted = values.variants?.split(',');
const variants = allVariants.filter((variant) => !wanted || wanted.includes(variant.name));
const signals = Number(values.signals);

function build(variant: Variant, i: number): string {
  const output = join(work, `variant-${i}`);
  const config = join(work, `variant-${i}.json`);
  writeFileSync(config, JSON.stringify({
    main: variant.main, output, executable: base, disableExperimentalSEAWarning: true,
    useCodeCache: variant.useCodeCache, useSnapshot: variant.useSnapshot ?? false, execArgv: variant.execArgv, execArgvExtension: 'none',
  }));
  // As scripts/build.ts: V8 takes a code cache only from a V8 with the same flags.
  execFileSync(process.execPath, [...(variant.plainBuilder ? [] : variant.execArgv), '--build-sea', config], { stdio: 'ignore' });
  return output;
}

const built = variants.map((variant, i) => { process.stderr.write(`tune: building ${variant.name}\n`); return build(variant, i); });
const median = (list: number[]) => quantile(list, 0.5);
const startup = variants.map(() => ({ v: [] as number[], vCpu: [] as number[], init: [] as number[], initCpu: [] as number[] }));
const broken = new Set<number>();
for (let run = 0; run < runs; run++) {
  built.forEach((file, i) => {
    if (broken.has(i)) return;
    try {
      const v = timeOnce(helper, [file, '-v']);
      const init = timeOnce(helper, [file, '--', '/bin/true']);
      startup[i]?.v.push(v.ms); startup[i]?.vCpu.push(v.cpuMs ?? NaN);
      startup[i]?.init.push(init.ms); startup[i]?.initCpu.push(init.cpuMs ?? NaN);
    } catch {
      broken.add(i);
    }
  });
}
process.stderr.write('tune: idle memory\n');
const idle = built.map((file) => [0, 1, 2].map(() => launch([file])));
await settle(idle.flat().flatMap((child) => (child.pid ? [child.pid] : [])), 400);
const mem = idle.map((children) => children.map((child) => (child.pid ? memory(child.pid) : undefined)));
await Promise.all(idle.flat().map((child) => stop(child)));
process.stderr.write('tune: forwarding\n');
// In rounds, the variants taking turns, as bench figure 5 does.
const forwards = built.map((file, i) => ({ file, measured: variants[i]?.forwards === true && !broken.has(i) }));
const measured = await latenciesTakingTurns(forwards.filter((f) => f.measured).map((f) => [f.file, '--', ...receiverCommand(helper)]), signals, helper);
const forwarding: (number[] | null)[] = forwards.map((f) => (f.measured ? measured.shift()?.flat() ?? null : null));

const fmt = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '—');
const lines = [
  '# SEA tuning: one change at a time', '',
  `${new Date().toISOString()}, ${runs} start-ups each (medians, programs taking turns), 3 idle instances each, ${signals} forwarded SIGUSR1s each in ${STEADY.rounds} rounds (the variants taking turns); load ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end. Made by \`tsx bench/tune.ts\`. Base execArgv: \`${SEA_EXEC_ARGV.join(' ')}\`.`, '',
  '| variant | `-v` wall (ms) | `-v` CPU (ms) | `-- /bin/true` wall (ms) | `-- /bin/true` CPU (ms) | idle anon RSS (kB) | threads | forward p50 / p99 (µs) |',
  '|---|---|---|---|---|---|---|---|',
];
variants.forEach((variant, i) => {
  const s = startup[i];
  const m = (mem[i] ?? []).filter((x) => x !== undefined);
  const f = forwarding[i];
  if (!s || broken.has(i)) { lines.push(`| ${variant.name} | fails to run | | | | | | |`); return; }
  lines.push(`| ${variant.name} | ${fmt(median(s.v))} | ${fmt(median(s.vCpu))} | ${fmt(median(s.init))} | ${fmt(median(s.initCpu))} | ${m.length ? fmt(median(m.map((x) => x.rssAnonKb))) : 'died'} | ${m.length ? median(m.map((x) => x.threads)) : '—'} | ${f ? `${fmt(quantile(f, 0.5))} / ${fmt(quantile(f, 0.99))}` : '—'} |`);
});
writeFileSync(values.out, `${lines.join('\n')}\n`);
process.stdout.write(`${lines.join('\n')}\n`);
