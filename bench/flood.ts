// npm run bench:flood [-- --runs 100] [--mode pid1|plain|both] [--busy 1] [--senders 1] [--hold-ms 0] [--signals 10,12,1,28,34,64] [--deadline-ms 10000] [--pause dist/pause]
//
// Stress harness for the flood guarantee (docs/design.md, "Signal floods"):
// runs the scenario of test/init-storm.test.ts (tools/flood.ts) again and
// again — pause's child exits in the middle of an endless flood of standard
// and real-time signals, and pause must leave with its status — beside
// `--busy` processes that each keep a core busy, and counts the runs in which
// pause had not left `--deadline-ms` after its child. Each miss is printed
// with the state of pause's threads; with FLOOD_GDB=1 in the environment,
// also every thread's stack, taken by gdb (it names what a stuck main thread
// waits on). Linux; root, or a user namespace.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { floodOnce, FLOOD_SIGNALS } from '../tools/flood.ts';
import { tryKill } from '../tools/procs.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: {
  runs: { type: 'string', default: '100' },
  mode: { type: 'string', default: 'pid1' },
  busy: { type: 'string', default: '1' },
  senders: { type: 'string', default: '1' },
  'hold-ms': { type: 'string', default: '0' },
  signals: { type: 'string', default: FLOOD_SIGNALS.join(',') },
  'deadline-ms': { type: 'string', default: '10000' },
  pause: { type: 'string', default: join(root, 'dist', 'pause') },
} });

function log(message: string): void {
  process.stderr.write(`bench flood: ${message}\n`);
}

const runs = Number(values.runs);
const busy = Number(values.busy);
const senders = Number(values.senders);
const holdMs = Number(values['hold-ms']);
const signals = values.signals.split(',').map(Number);
const deadlineMs = Number(values['deadline-ms']);
const modes = values.mode === 'both' ? [true, false] : values.mode === 'plain' ? [false] : values.mode === 'pid1' ? [true] : null;
if (!modes || !(runs > 0) || !(busy >= 0) || !(senders >= 1) || !(holdMs >= 0) || !signals.every((n) => n >= 1 && n <= 64) || !(deadlineMs > 0)) {
  log('usage: npm run bench:flood -- [--runs N] [--mode pid1|plain|both] [--busy N] [--senders N] [--hold-ms MS] [--signals 10,12,...] [--deadline-ms MS] [--pause PATH]');
  process.exit(2);
}
if (!existsSync(values.pause)) {
  log(`${values.pause} is missing: run \`npm run build\` first`);
  process.exit(1);
}

// Each keeps one core busy for as long as the harness runs.
const spinners = Array.from({ length: busy }, () => spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
const stopSpinners = () => { for (const s of spinners) if (s.pid) tryKill(s.pid, 'SIGKILL'); };
process.on('exit', stopSpinners);
process.on('SIGINT', () => process.exit(130));

log(`${runs} runs per mode, ${senders} sender(s), ${busy} busy core(s) beside, deadline ${deadlineMs} ms, ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const started = Date.now();
for (const asPid1 of modes) {
  const mode = asPid1 ? 'PID 1' : 'not PID 1';
  let missed = 0;
  let wrong = 0;
  let open = 0;
  for (let i = 1; i <= runs; i++) {
    const outcome = await floodOnce(values.pause, asPid1, deadlineMs, senders, signals, holdMs);
    if (outcome.mainBlocksRealtime !== true) {
      open++;
      log(`${mode} run ${i}: the main thread did not block SIGRTMIN before the flood (${outcome.mainBlocksRealtime ?? 'unknown'})${outcome.missed ? '' : ', no miss'}`);
    }
    if (outcome.missed) {
      missed++;
      log(`${mode} run ${i}: MISS — ${outcome.state}`);
    } else if (outcome.code !== 7) {
      wrong++;
      log(`${mode} run ${i}: pause exited ${outcome.code ?? outcome.signal}, not 7`);
    }
    if (i % 10 === 0) log(`${mode}: ${i} runs, ${missed} missed, ${wrong} wrong status, ${open} main thread open to real-time signals (last flood: ${outcome.sent} signals)`);
  }
  process.stdout.write(`${mode}: ${runs} runs, ${missed} missed the child's exit, ${wrong} wrong status, ${open} with the main thread open to real-time signals; ${senders} sender(s), ${busy} busy core(s)\n`);
}
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
process.exit(0);
