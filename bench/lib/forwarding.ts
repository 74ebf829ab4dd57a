// Figures 5 and 5b: SIGUSR1 (5) and SIGUSR2 (5b) sent to the init, received by
// its child, which stamps the moment it gets it (CLOCK_MONOTONIC, the clock of
// process.hrtime). One signal at a time: the next is sent once the last was
// received, so none merge. Two signals because a Node init may route them
// differently: Node blocks SIGUSR1 in its own threads (--disable-sigusr1).
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
async function latencies(argv: string[], count: number, helper: string | null, signal: ForwardedSignal): Promise<number[]> {
  if (helper) {
    // Started with launch(), so that a bench that stops mid-way kills the
    // sender with the init and child it started.
    const sender = launch([helper, 'send', String(count), String(NUMBERS[signal]), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    sender.stdout?.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    sender.stderr?.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => sender.on('close', resolve));
    if (code !== 0) throw new Error(`bench: helper send ${argv.join(' ')} failed: ${err.trim() || `exit ${code}`}`);
    return out.trim().split('\n').map((ns) => Number(ns) / 1e3);
  }
  return latenciesFromNode(argv, count, signal);
}

/** The same, sent from this process: its own garbage collector can land between the clock and the kill. */
async function latenciesFromNode(argv: string[], count: number, signal: ForwardedSignal): Promise<number[]> {
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
 * (docs/benchmarks.md, "Where forwarding's time goes"). Eight rounds sample
 * the placements for every init alike.
 */
export const ROUNDS = 8;

/**
 * Latencies of `count` signals to each init of `argvs`, in ROUNDS rounds with
 * the inits taking turns (a new instance each round): [init][round][signal].
 * Taking turns spreads whatever else the machine is doing (the storms of
 * figure 4 leave work behind them) over every init alike.
 */
export async function latenciesTakingTurns(argvs: string[][], count: number, helper: string | null, signal: ForwardedSignal = 'SIGUSR1'): Promise<number[][][]> {
  const samples = argvs.map(() => [] as number[][]);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, argv] of argvs.entries()) samples[i]?.push(await latencies(argv, Math.ceil(count / ROUNDS), helper, signal));
  }
  return samples;
}

/** The quantile over all samples, with the range of the same quantile over each round. */
function quantileStat(rounds: number[][], q: number): Stat {
  const parts = rounds.map((round) => quantile(round, q)).filter((v) => !Number.isNaN(v));
  return { median: quantile(rounds.flat(), q), min: Math.min(...parts), max: Math.max(...parts), n: rounds.flat().length };
}

export async function forwardingFigure(programs: Program[], count: number, helper: string | null, signal: ForwardedSignal = 'SIGUSR1'): Promise<Figure> {
  const receiver = receiverCommand(helper);
  const subjects = initSubjects(programs, receiver);
  const samples = await latenciesTakingTurns(subjects.map((subject) => [subject.program.path, ...subject.argv]), count, helper, signal);
  const rows: Row[] = subjects.map((subject, i) => ({
    program: subject.program.id,
    label: subject.label.replace(receiver.join(' '), 'CHILD'),
    values: { p50: quantileStat(samples[i] ?? [], 0.5), p99: quantileStat(samples[i] ?? [], 0.99) },
  }));
  return {
    id: signal === 'SIGUSR1' ? '5' : '5b', title: `Signal forwarding: ${signal} to the init, until its child has it`,
    method: `${count} signals, one at a time, sent with kill(2) after reading CLOCK_MONOTONIC ${helper ? 'by `bench/helper.c send`' : 'from the bench (Node)'}, in ${ROUNDS} rounds with the programs taking turns (a new init each round); CHILD is ${helper ? '`bench/helper.c recv` (sigwaitinfo, then clock_gettime)' : 'perl with Time::HiRes (a %SIG handler: perl\'s deferred signals add their own delay)'}, the same for every program. Not PID 1. The range is of the same percentile over each round. The Node floor does not forward: not shown.`,
    metrics: [{ key: 'p50', label: 'p50', unit: 'µs' }, { key: 'p99', label: 'p99', unit: 'µs' }],
    rows,
  };
}
