// npm run bench:trace -- [--signal 10|12] [--count 300] PROGRAM [ARG...]
//   e.g. npm run bench:trace -- --signal 12 dist/pause --      npm run bench:trace -- tini -s --
//
// Where a forwarded signal's time goes, from the sender's kill(2) to the
// child's sigwaitinfo, sliced by the kernel's own trace points (ftrace,
// CLOCK_MONOTONIC, µs): `helper send` (bench/helper.c) runs PROGRAM with
// `helper recv` as its command under a tracing instance of its own, then each
// signal is followed through the events of the init's threads. For pause:
// kill → its native handler starts on one of its threads (signal_deliver) →
// the handler's kill of the child → the child's sigwaitinfo returns. For a C
// init: kill → its sigtimedwait returns → its kill → the child's. Tracing adds ≈0.5 µs per event: compare slices,
// not totals with `npm run bench`. Root; mounts tracefs if it is not mounted
// (and leaves it so).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { STEADY } from './lib/forwarding.ts';
import { buildHelper } from './lib/helper.ts';
import { quantile } from './lib/stats.ts';

const root = resolve(import.meta.dirname, '..');
// The options come first; PROGRAM and its own arguments (which may look like options) after them.
const args = process.argv.slice(2);
const first = args.findIndex((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const { values } = parseArgs({ args: first < 0 ? args : args.slice(0, first), options: {
  signal: { type: 'string', default: '10' },
  count: { type: 'string', default: '300' },
} });
const positionals = first < 0 ? [] : args.slice(first);
const signo = Number(values.signal);
if (positionals.length === 0 || !(signo >= 1 && signo <= 31)) {
  process.stderr.write('usage: npm run bench:trace -- [--signal N] [--count N] PROGRAM [ARG...] (PROGRAM runs `helper recv` after its args)\n');
  process.exit(2);
}
const helper = buildHelper(root, join(root, '.tmp', 'bench'));
if (!helper) throw new Error('bench trace: needs a C compiler for bench/helper.c');

const TRACING = '/sys/kernel/tracing';
if (!existsSync(join(TRACING, 'instances'))) execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACING]);
const instance = join(TRACING, 'instances', `pause-bench-${process.pid}`);
mkdirSync(instance);
const set = (file: string, text: string) => writeFileSync(join(instance, file), text);
const EVENTS = ['signal:signal_deliver', 'syscalls:sys_enter_kill', 'syscalls:sys_exit_epoll_pwait', 'syscalls:sys_exit_epoll_wait',
  'syscalls:sys_enter_read', 'syscalls:sys_enter_write', 'syscalls:sys_exit_rt_sigtimedwait'];
let trace: string;
try {
  set('buffer_size_kb', '16384');
  set('trace_clock', 'mono');
  set('set_event', `${EVENTS.join('\n')}\n`);
  set('tracing_on', '1');
  const sent = spawnSync(helper, ['send', values.count, String(signo), String(STEADY.settleMs), ...positionals, helper, 'recv'], { encoding: 'utf8' });
  set('tracing_on', '0');
  if (sent.status !== 0) throw new Error(`helper send failed: ${sent.stderr.trim()}`);
  trace = readFileSync(join(instance, 'trace'), 'latin1');
} finally {
  set('set_event', '\n');
  rmdirSync(instance);
}

interface Event { comm: string; tid: number; us: number; name: string; rest: string }
const events: Event[] = [];
for (const line of trace.split('\n')) {
  const m = /^\s*(.+?)-(\d+)\s+\[\d+\]\s+\S+\s+([\d.]+): (\w+)(.*)$/.exec(line);
  if (m) events.push({ comm: m[1] ?? '', tid: Number(m[2]), us: Number(m[3]) * 1e6, name: m[4] ?? '', rest: m[5] ?? '' });
}
const hex = (n: number) => `0x${n.toString(16)}`;
const killOf = (e: Event) => e.name === 'sys_kill' && e.rest.includes(`sig: ${hex(signo)})`);
const target = (e: Event) => parseInt(/pid: 0x([0-9a-f]+)/.exec(e.rest)?.[1] ?? '', 16);
const sends = events.filter((e) => e.comm === 'helper' && killOf(e));
if (sends.length === 0) throw new Error(`no kill by helper in the trace (${events.length} events, ${trace.length} bytes)`);
const init = target(sends[0]!);
// pause's kill is made by whichever of its threads took the signal.
const NODE_THREADS = /^(pause|DelayedTaskSche|node-V8Worker|node-MainThread)$/;
const initsKill = (e: Event) => killOf(e) && (e.tid === init || NODE_THREADS.test(e.comm)) && e.comm !== 'helper';
const child = target(events.find((e) => initsKill(e) && target(e) !== init)!);
const returns = (e: Event, tid: number, name: string) => e.tid === tid && e.name === name && e.rest.includes('->');

/** The slices of one signal: the times of the marks after the sender's kill at index `from`, or null. */
function follow(from: number, marks: ((e: Event, state: { taker?: number }) => boolean)[]): number[] | null {
  const times = [events[from]!.us];
  const state: { taker?: number } = {};
  for (let i = from + 1; i < events.length && times.length <= marks.length; i++) {
    if (marks[times.length - 1]!(events[i]!, state)) times.push(events[i]!.us);
  }
  return times.length > marks.length ? times.slice(1).map((t, i) => t - times[i]!) : null;
}

// A C init takes the signal with sigtimedwait in its only thread. pause takes it with rt_sigtimedwait on its
// forwarding thread, or, the first time the kernel hands one to a thread of Node's, in its native handler there
// (signal_deliver); its threads keep the names Node gives them, and its own is named `pause`, as its maker.
const isNode = events.some((e) => e.tid === init && NODE_THREADS.test(e.comm));
const ofInit = (e: Event) => e.tid === init || (isNode && NODE_THREADS.test(e.comm));
const taken = (e: Event) => ofInit(e) && ((e.name === 'sys_rt_sigtimedwait' && e.rest.includes('->')) || (e.name === 'signal_deliver' && e.rest.includes(`sig=${signo} `)));
const marks = {
  'kernel: kill → the init has it': (e: Event, s: { taker?: number }) => taken(e) && ((s.taker = e.tid), true),
  'init: its kill()': (e: Event, s: { taker?: number }) => e.tid === s.taker && killOf(e),
  'kernel: kill → child has it': (e: Event) => returns(e, child, 'sys_rt_sigtimedwait'),
};
const slices = Object.keys(marks).map(() => [] as number[]);
const takers = new Set<string>();
for (const [i, e] of events.entries()) {
  if (!(e.comm === 'helper' && killOf(e))) continue;
  const state: { taker?: number } = {};
  const got = follow(i, Object.values(marks).map((mark) => (ev: Event) => mark(ev, state)));
  if (!got) continue;
  got.forEach((v, j) => slices[j]!.push(v));
  if (state.taker !== undefined) takers.add(`${events.find((ev) => ev.tid === state.taker)?.comm ?? state.taker}${state.taker === init ? " (main thread)" : ""}`);
}
const totals = slices[0]!.map((_, i) => slices.reduce((sum, s) => sum + s[i]!, 0));
process.stdout.write(`${positionals.join(' ')}, signal ${signo}: ${totals.length} of ${sends.length} signals followed; taken by: ${[...takers].join(', ')}\n`);
const row = (label: string, v: number[]) => `| ${label} | ${quantile(v, 0.5).toFixed(0)} | ${quantile(v, 0.9).toFixed(0)} |\n`;
process.stdout.write('| slice | p50 (µs) | p90 (µs) |\n|---|---|---|\n');
Object.keys(marks).forEach((label, j) => process.stdout.write(row(label, slices[j]!)));
process.stdout.write(row('total (traced)', totals));
