// Figures 5 and 5b: SIGUSR1 (5) and SIGUSR2 (5b) sent to the init, received by
// its child, which stamps the moment it gets it (CLOCK_MONOTONIC, the clock of
// process.hrtime). One signal at a time: the next is sent once the last was
// received, so none merge. Two signals because a Node init may route them
// differently: Node blocks SIGUSR1 in its own threads (--disable-sigusr1).
import { readFileSync } from 'node:fs';
import { receiverCommand } from './helper.ts';
import { launch, stop } from './processes.ts';
import { initSubjects, type Program } from './programs.ts';
import { quantile, type Stat } from './stats.ts';
import type { Figure, Row } from './types.ts';

function lineReader(stream: NodeJS.ReadableStream): (timeoutMs: number) => Promise<string> {
  const lines: string[] = [];
  let waiting: ((line: string) => void) | null = null;
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts);
    if (waiting && lines.length > 0) { const resolve = waiting; waiting = null; resolve(lines.shift() ?? ''); }
  });
  return (timeoutMs) => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { waiting = null; reject(new Error(`bench: no line from the receiver within ${timeoutMs} ms`)); }, timeoutMs);
      waiting = (value) => { clearTimeout(timer); resolve(value); };
    });
  };
}

export type ForwardedSignal = 'SIGUSR1' | 'SIGUSR2';
const NUMBERS: Record<ForwardedSignal, number> = { SIGUSR1: 10, SIGUSR2: 12 };

/**
 * Latencies in µs of `count` `signal`s sent to `argv` (an init running the
 * receiver): by `helper send` when there is a helper, else from here.
 */
async function latencies(
  argv: string[], count: number, helper: string | null, signal: ForwardedSignal, senderPrefix: readonly string[], settleMs: number,
): Promise<number[]> {
  if (helper) {
    // Started with launch(), so that a bench that stops mid-way kills the
    // sender with the init and child it started.
    const sender = launch([...senderPrefix, helper, 'send', String(count), String(NUMBERS[signal]), String(settleMs), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    sender.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    sender.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => sender.on('close', resolve));
    if (code !== 0) throw new Error(`bench: helper send ${argv.join(' ')} failed: ${err.trim() || `exit ${code}`}`);
    return out.trim().split('\n').map((ns) => Number(ns) / 1e3);
  }
  return latenciesFromNode(argv, count, signal, settleMs);
}

/** The same, sent from this process: its own garbage collector can land between the clock and the kill. */
async function latenciesFromNode(argv: string[], count: number, signal: ForwardedSignal, settleMs: number): Promise<number[]> {
  const init = launch(argv, { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = init.pid;
  if (pid === undefined || !init.stdout) throw new Error(`bench: cannot start ${argv.join(' ')}`);
  try {
    const next = lineReader(init.stdout);
    if ((await next(15_000)) !== 'ready') throw new Error('bench: the receiver did not start');
    const micros: number[] = [];
    for (let i = 0; i < count; i++) {
      const sent = process.hrtime.bigint();
      process.kill(pid, signal);
      micros.push(Number(BigInt(await next(2_000)) - sent) / 1e3);
      if (i === 0) await new Promise((resolve) => setTimeout(resolve, settleMs)); // as helper.c does
    }
    return micros;
  } finally {
    await stop(init);
  }
}

/**
 * Rounds of signals per init; the inits take turns, round by round. Each
 * round is a new instance, and where its threads and its child land decides
 * its latency more than the init does: a sender, init and child sharing a
 * core forward in ≈7 µs, each wake-up across cores adds ≈12 µs on a VM's
 * vCPUs, and an instance keeps its placement for its whole round
 * (docs/benchmarks.md, "Where forwarding's time goes"). So the rounds are
 * the sample that counts: with 16 instances each, pause's p99 came out
 * 0.96-1.15× tini's from one run to the next, with 48 each 0.91-1.04×. 160
 * each of pause and tini (125 signals each, 2026-12-05), resampled over the
 * instances (bootstrap, 90%): p99 0.92-0.97× and 0.92-0.99×, p50 0.96-0.98×
 * and 0.96-0.99×. The pinned figures draw no placements: 16 rounds there.
 */
export const ROUNDS = 160;
export const PINNED_ROUNDS = 16;

/** How long the sender waits after each round's first signal, and how many rounds (a new instance each). */
export interface Pace { readonly settleMs: number; readonly rounds: number }

/**
 * Latencies of `count` signals to each init of `argvs`, in `pace.rounds` rounds with
 * the inits taking turns (a new instance each round): [init][round][signal].
 * Taking turns spreads whatever else the machine is doing (the storms of
 * figure 4 leave work behind them) over every init alike.
 */
export async function latenciesTakingTurns(
  argvs: string[][], count: number, helper: string | null, signal: ForwardedSignal = 'SIGUSR1', senderPrefix: readonly string[] = [],
  pace: Pace = STEADY,
): Promise<number[][][]> {
  const { settleMs, rounds } = pace;
  const samples = argvs.map(() => [] as number[][]);
  for (let round = 0; round < rounds; round++) {
    // At least three: the first, the one after the quiet, and one back to back.
    for (const [i, argv] of argvs.entries()) samples[i]?.push(await latencies(argv, Math.max(3, Math.ceil(count / rounds)), helper, signal, senderPrefix, settleMs));
  }
  return samples;
}

/**
 * Three regimes per round, reported apart because each has its own cause:
 * - the first signal, sent as soon as CHILD is ready, while the init may
 *   still be starting (pause's main thread goes on for ≈0.2 ms after the
 *   spawn, and on a shared core the thread waits for it);
 * - the second, sent after the sender has waited `settleMs`: every
 *   task wakes from a quiet spell, with cold caches, on cores that may have
 *   gone idle (a real `docker stop` meets an init in this state). For ≈100 ms
 *   after start-up the kernel's load tracking (PELT, a 32 ms half-life) still
 *   weighs a start-up's CPU when it places a waking task, and pause's
 *   start-up is ≈15 ms of CPU against tini's ≈1: the wait lets that fade;
 * - the rest, back to back: p50 and p99. One quiet-spell signal per round
 *   among them would be ≈0.8% of the samples, enough to decide a p99 of its
 *   own (docs/benchmarks.md, "Three regimes").
 * --quick waits less, in fewer rounds: its figures are not meant to be read.
 */
export const STEADY: Pace = { settleMs: 200, rounds: ROUNDS };
export const STEADY_PINNED: Pace = { settleMs: 200, rounds: PINNED_ROUNDS };
export const QUICK: Pace = { settleMs: 20, rounds: 4 };
const regimes = (settleMs: number): string =>
  `"first signal" is the median of each round's first, sent as soon as CHILD is ready, while the init may still be finishing its start-up; "after quiet" the median of each round's second, sent after the sender has waited ${settleMs} ms; p50 and p99 are of the rest, sent back to back.`;
const backToBack = (rounds: number[][] = []): number[][] => rounds.map((round) => round.slice(2));
const nth = (rounds: number[][] = [], n: number): number[][] => rounds.map((round) => round.slice(n, n + 1));

/** The quantile over all samples, with the range of the same quantile over each round. */
function quantileStat(rounds: number[][], q: number): Stat {
  const parts = rounds.map((round) => quantile(round, q)).filter((v) => !Number.isNaN(v));
  return { median: quantile(rounds.flat(), q), min: Math.min(...parts), max: Math.max(...parts), n: rounds.flat().length };
}

export async function forwardingFigure(
  programs: Program[], count: number, helper: string | null, signal: ForwardedSignal = 'SIGUSR1', pace: Pace = STEADY,
): Promise<Figure> {
  const receiver = receiverCommand(helper);
  const subjects = initSubjects(programs, receiver);
  const samples = await latenciesTakingTurns(subjects.map((subject) => [subject.program.path, ...subject.argv]), count, helper, signal, [], pace);
  const rows: Row[] = subjects.map((subject, i) => ({
    program: subject.program.id,
    label: subject.label.replace(receiver.join(' '), 'CHILD'),
    values: {
      p50: quantileStat(backToBack(samples[i]), 0.5), p99: quantileStat(backToBack(samples[i]), 0.99),
      first: quantileStat(nth(samples[i], 0), 0.5), quiet: quantileStat(nth(samples[i], 1), 0.5),
    },
  }));
  return {
    id: signal === 'SIGUSR1' ? '5' : '5b', title: `Signal forwarding: ${signal} to the init, until its child has it`,
    method: `${count} signals, one at a time, sent with kill(2) after reading CLOCK_MONOTONIC ${helper ? 'by `bench/helper.c send`' : 'from the bench (Node)'}, in ${pace.rounds} rounds with the programs taking turns (a new init each round); CHILD is ${helper ? '`bench/helper.c recv` (sigwaitinfo, then clock_gettime)' : 'perl with Time::HiRes (a %SIG handler: perl\'s deferred signals add their own delay)'}, the same for every program. Not PID 1. ${regimes(pace.settleMs)} The range is of the same percentile over each round. The Node floor does not forward: not shown.`,
    metrics: [
      { key: 'p50', label: 'p50', unit: 'µs' }, { key: 'p99', label: 'p99', unit: 'µs' },
      { key: 'first', label: 'first signal', unit: 'µs' }, { key: 'quiet', label: 'after quiet', unit: 'µs' },
    ],
    rows,
  };
}

/**
 * Where the sender, the init (every thread of it) and its child run, as
 * indexes into two cores; the unpinned figures draw one of these per
 * instance. Each wake-up on another core that has gone idle costs an
 * interrupt to it; on the waker's own core, only a switch.
 */
const PLACEMENTS = [
  { key: 'one', label: 'one core', cores: [0, 0, 0] },
  { key: 'initChild', label: 'init+child', cores: [0, 1, 1] },
  { key: 'senderInit', label: 'sender+init', cores: [0, 0, 1] },
  { key: 'senderChild', label: 'sender+child', cores: [0, 1, 0] },
] as const;

/** The CPUs this process may run on (Cpus_allowed_list), in order. */
function allowedCpus(): number[] {
  const list = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1] ?? '';
  return list.split(',').flatMap((range) => {
    const [from, to = from] = range.split('-').map(Number);
    return from === undefined || to === undefined || Number.isNaN(from) || Number.isNaN(to) ? [] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/**
 * Figures 5c and 5d: the same measurement with each task pinned (taskset) in
 * each placement, so that every init is compared in the same one: what is
 * left is the init's own work between the two wake-ups. Needs the C sender
 * and two CPUs (one: only the one-core placement).
 */
export async function pinnedForwardingFigure(
  programs: Program[], count: number, helper: string, signal: ForwardedSignal, pace: Pace = STEADY_PINNED,
): Promise<Figure> {
  const cpus = allowedCpus();
  const placements = PLACEMENTS.filter((placement) => cpus.length >= 2 || placement.key === 'one');
  const receiver = receiverCommand(helper);
  const subjects = initSubjects(programs, receiver);
  const rows: Row[] = subjects.map((subject) => ({ program: subject.program.id, label: subject.label.replace(receiver.join(' '), 'CHILD'), values: {} }));
  const pin = (core: number): string[] => ['taskset', '-c', String(cpus[core] ?? 0)];
  for (const { key, cores: [sender, init, child] } of placements) {
    const pinned = initSubjects(programs, [...pin(child), ...receiver]);
    const samples = await latenciesTakingTurns(pinned.map((subject) => [...pin(init), subject.program.path, ...subject.argv]), count, helper, signal, pin(sender), pace);
    for (const [i, row] of rows.entries()) {
      row.values[`${key}50`] = quantileStat(backToBack(samples[i]), 0.5);
      row.values[`${key}99`] = quantileStat(backToBack(samples[i]), 0.99);
      row.values[`${key}First`] = quantileStat(nth(samples[i], 0), 0.5);
      row.values[`${key}Quiet`] = quantileStat(nth(samples[i], 1), 0.5);
    }
  }
  return {
    id: signal === 'SIGUSR1' ? '5c' : '5d',
    title: `Signal forwarding, each task on a fixed core: ${signal}`,
    method: `As figure ${signal === 'SIGUSR1' ? '5' : '5b'} (the same three regimes), ${count} signals per placement in ${pace.rounds} rounds, with the sender, the init (all its threads) and CHILD each pinned by taskset to CPU ${cpus[0]} or ${cpus[1] ?? cpus[0]}: all on one core; init and child together, the sender on the other; sender and init together; sender and child together, the init alone. The unpinned figures draw one of these per instance (docs/benchmarks.md, "Where forwarding's time goes").`,
    metrics: placements.flatMap(({ key, label }) => [
      { key: `${key}50`, label: `${label} p50`, unit: 'µs' },
      { key: `${key}99`, label: `${label} p99`, unit: 'µs' },
      { key: `${key}First`, label: `${label} first`, unit: 'µs' },
      { key: `${key}Quiet`, label: `${label} quiet`, unit: 'µs' },
    ]),
    rows,
  };
}
