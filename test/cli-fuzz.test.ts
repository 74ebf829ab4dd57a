// Fuzzed command lines against dist/pause: whatever the arguments and PAUSE_*
// (or tini's TINI_*) variables, pause answers with a usage error (2), its version or help (0),
// or runs the command and exits with its code; never a stack trace.
//
// The expected outcome of each run comes from the pure parser in src/cli.ts;
// the command, when there is one, is one whose exit code is known. Seeded:
// PAUSE_FUZZ_SEED=N reproduces a run.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, test } from 'vitest';
import { parseArgs, type Environment } from '../src/cli.ts';
import { PAUSE } from './helpers/paths.ts';

const SEED = Number(process.env['PAUSE_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const TESTS = 4;
/**
 * Each batch runs cases for about BATCH_BUDGET_MS: at least MIN_RUNS, at most
 * MAX_RUNS (what a fast machine does in that time). A run is a process start,
 * whose cost differs several times between machines of the same kind.
 */
const BATCH_BUDGET_MS = 10_000;
const MIN_RUNS = 100;
const MAX_RUNS = 500;
/** Runs at once: one per core, so that the test files beside this one are not starved. */
const CONCURRENCY = availableParallelism();
const RUN_TIMEOUT_MS = 15_000;
/** Thirty times the budget: room for MIN_RUNS on a machine far slower than any seen (≈0.1 s a run here). */
const BATCH_TIMEOUT_MS = 30 * BATCH_BUDGET_MS;

/** mulberry32: a small seeded PRNG, good enough to pick tokens. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

// Words that name no executable on PATH nor a directory: as a command, each
// is "not found" (127).
const GARBAGE = [
  '0', '-1', '65', '256', '1e3', '99999999999999999999999', '2147484', 'NaN', 'Infinity', '0x10', '٣', 'RTMIN+31',
  '17:1', '9:1', '1:2:3', ':', '::', 'xml', '', ' ', '\t', '💥', 'é', 'x'.repeat(5000),
];
// -v, -vv, -vvv: tini's verbosity before a command, the version without one.
const FLAGS = ['-g', '-s', '-w', '-gw', '-gsw', '--process-group', '--subreaper', '--warn-on-reap', '--verbose', '-vv', '-vvv', '-gv'];
/** Each valued option, its spellings, and values it accepts. */
const VALUED: readonly (readonly [readonly string[], readonly string[]])[] = [
  [['-p', '--parent-death-signal'], ['TERM', 'KILL', '9', 'RTMIN+3', 'sigusr1']],
  [['-e', '--remap-exit'], ['0', '1', '42', '255']],
  [['-r', '--rewrite'], ['TERM:INT', '15:0', 'USR1:USR2', 'RTMIN:RTMAX']],
  [['-t', '--grace-period'], ['0', '0.5', '10', '2147483']],
  [['--log-format'], ['text', 'json']],
];
const INVALID_OPTIONS = ['--unknown', '-x', '-💥', '---', '--=', '-', '--help=', '--verbose=1', '-gt'];
const EXITING = ['-V', '-v', '--version', '-h', '--help'];
const ENV: Readonly<Record<string, readonly string[]>> = {
  PAUSE_PROCESS_GROUP: ['1', '0', 'yes', 'off', ''], PAUSE_SUBREAPER: ['1', 'true', '0'],
  PAUSE_PARENT_DEATH_SIGNAL: ['TERM', '9'], PAUSE_REMAP_EXIT: ['3,42', '0 1', '255'],
  PAUSE_REWRITE: ['TERM:INT,USR1:0', '15:2'], PAUSE_GRACE_PERIOD: ['0', '1.5'], PAUSE_WARN_ON_REAP: ['1', 'no'],
  PAUSE_LOG_FORMAT: ['json', 'text'], PAUSE_VERBOSE: ['1', '0'],
  // tini's names, read when the PAUSE_ one is absent.
  TINI_SUBREAPER: ['', '1'], TINI_KILL_PROCESS_GROUP: ['', '0'], TINI_VERBOSITY: ['0', '3'],
};

interface Case {
  readonly argv: string[];
  readonly env: Record<string, string>;
  /** The command appended at the end, if any, and its exit code. */
  readonly tail: readonly string[];
  readonly tailCode: number;
}

function makeCase(random: () => number): Case {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const argv: string[] = [];
  for (let n = Math.floor(random() * 5); n > 0; n--) {
    const roll = random();
    if (roll < 0.35) argv.push(pick(FLAGS));
    else if (roll < 0.85) {
      const [spellings, values] = pick(VALUED);
      const name = pick(spellings);
      const value = random() < 0.75 ? pick(values) : pick(GARBAGE);
      if (random() < 0.5) argv.push(name, value);
      else argv.push(name.startsWith('--') ? `${name}=${value}` : `${name}${value}`);
      if (random() < 0.05) argv.pop(); // a value (or an option) missing
    } else if (roll < 0.97) argv.push(pick(INVALID_OPTIONS), ...(random() < 0.5 ? [pick(GARBAGE)] : []));
    else argv.push(pick(EXITING));
  }
  const code = Math.floor(random() * 256);
  const tails: [string[], number][] = [[['true'], 0], [['false'], 1], [['sh', '-c', `exit ${code}`], code], [[], 0]];
  const [tail, tailCode] = pick(tails);
  if (tail.length > 0 && random() < 0.7) argv.push('--');
  argv.push(...tail);
  if (argv.length === 0) argv.push('-g'); // no argument at all is the pause mode, which runs until stopped
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin' };
  for (const [name, values] of Object.entries(ENV)) {
    if (random() < 0.08) env[name] = random() < 0.8 ? pick(values) : pick(GARBAGE);
  }
  return { argv, env, tail, tailCode };
}

/** What pause must do, by the parser's reading of the same input. */
function expectedCode({ argv, env, tail, tailCode }: Case): number {
  const parsed = parseArgs(argv, env as Environment);
  if (!parsed.ok) return 2;
  if (parsed.value.mode === 'version' || parsed.value.mode === 'help') return 0;
  if (parsed.value.mode === 'pause') throw new Error('the fuzzer made a pause-mode command line');
  const command = parsed.value.options.command;
  const ours = command.length === tail.length && command.every((arg, i) => arg === tail[i]);
  // Anything else is a word that names no command: not found (127), or, longer
  // than NAME_MAX, ENAMETOOLONG, which pause (as tini) answers with 1.
  const NAME_MAX = 255;
  const code = ours ? tailCode : (command[0] ?? '').length > NAME_MAX ? 1 : 127;
  return parsed.value.options.remapExit.has(code) ? 0 : code;
}

interface Outcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

function runOnce({ argv, env }: Case): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(PAUSE, argv, { env, stdio: ['ignore', 'ignore', 'pipe'], timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/**
 * Makes and runs cases, CONCURRENCY at a time, until BATCH_BUDGET_MS has
 * passed (between MIN_RUNS and MAX_RUNS of them). The cases come from the
 * seeded generator in order: a seed reproduces the same runs, and a slower
 * machine runs a prefix of them.
 */
async function runForBudget(next: () => Case): Promise<{ cases: Case[]; outcomes: Outcome[] }> {
  const cases: Case[] = [];
  const outcomes: Outcome[] = [];
  const deadline = Date.now() + BATCH_BUDGET_MS;
  while (cases.length < MAX_RUNS && (cases.length < MIN_RUNS || Date.now() < deadline)) {
    const round = Array.from({ length: Math.min(CONCURRENCY, MAX_RUNS - cases.length) }, next);
    cases.push(...round);
    outcomes.push(...await Promise.all(round.map(runOnce)));
  }
  return { cases, outcomes };
}

const STACK_TRACE = /^\s+at |Error:|internal error/m;

describe(`fuzzed command lines (seed ${SEED}: PAUSE_FUZZ_SEED=${SEED} reproduces)`, () => {
  test.each(Array.from({ length: TESTS }, (_, i) => i))('batch %i: exit 0, 2 or the command\'s code, and no stack trace', async (batch) => {
    const random = prng(SEED + batch);
    const { cases, outcomes } = await runForBudget(() => makeCase(random));
    const failures = cases.flatMap((c, i) => {
      const outcome = outcomes[i] as Outcome;
      const expected = expectedCode(c);
      const ok = outcome.signal === null && outcome.code === expected && !STACK_TRACE.test(outcome.stderr);
      const short = (text: string): string => (text.length > 80 ? `${text.slice(0, 80)}…(${text.length})` : text);
      return ok ? [] : [{ argv: c.argv.map(short), env: { ...c.env, PATH: '…' }, expected, ...outcome, stderr: short(outcome.stderr) }];
    });
    const kinds = { usage: 0, versionOrHelp: 0, command: 0, notACommand: 0 };
    for (const c of cases) {
      const parsed = parseArgs(c.argv, c.env as Environment);
      if (!parsed.ok) kinds.usage++;
      else if (parsed.value.mode !== 'init') kinds.versionOrHelp++;
      else if (parsed.value.options.command[0] === c.tail[0]) kinds.command++;
      else kinds.notACommand++;
    }
    console.log(`seed ${SEED}, batch ${batch}: ${cases.length} runs, ${CONCURRENCY} at a time: ${JSON.stringify(kinds)}`);
    if (failures.length > 0) console.log(`seed ${SEED}, batch ${batch}:`, JSON.stringify(failures.slice(0, 5), null, 1));
    expect(failures).toEqual([]);
  }, BATCH_TIMEOUT_MS);
});
