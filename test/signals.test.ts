// The signal table (pure) against the running Node's own table and the spellings users write.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  ALL_SIGNALS, initDisposition, parseSignal, pauseDisposition, signalName, SIGNAL_NUMBERS,
  SIGRTMAX, SIGRTMIN, standardSignalName, STOP_DESCRIPTIONS,
} from '../src/signals.ts';

function signal(text: string, allowZero = false): number {
  const parsed = parseSignal(text, allowZero);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

function refusal(text: string, allowZero = false): string {
  const parsed = parseSignal(text, allowZero);
  if (parsed.ok) throw new Error(`'${text}' parsed as ${parsed.value}`);
  return parsed.error;
}

describe('parseSignal', () => {
  it.each([['TERM'], ['SIGTERM'], ['sigterm'], ['term'], ['Term'], ['15'], [' 15 '], [' SIGTERM ']])('%j is 15', (text) => {
    expect(signal(text)).toBe(15);
  });
  it.each([['IOT', 6], ['SIGPOLL', 29], ['cld', 17]])('alias %s is %i', (text, n) => expect(signal(text)).toBe(n));
  it.each([
    ['RTMIN', 34], ['SIGRTMIN', 34], ['rtmin+1', 35], ['SIGRTMIN+30', 64],
    ['RTMAX', 64], ['SIGRTMAX-1', 63], ['rtmax-30', 34], ['RTMIN+0', 34], ['RTMAX-0', 64],
  ])('%s is %i', (text, n) => expect(signal(text)).toBe(n));
  it.each([['RTMIN+31'], ['RTMAX+1'], ['RTMIN-1'], ['RTMAX-31']])('%s is outside the real-time range', (text) => {
    expect(refusal(text)).toMatch(/real-time signals go from SIGRTMIN \(34\) to SIGRTMAX \(64\)/);
  });
  it.each([['1', 1], ['64', 64], ['32', 32], ['33', 33]])('number %s', (text, n) => expect(signal(text)).toBe(n));
  it.each([['65'], ['0'], ['-1'], ['1.5'], [''], ['SIG'], ['NOPE'], ['SIGTERM2'], ['RTMIN+x'], ['0x0f']])('%j is refused', (text) => {
    expect(refusal(text)).toContain(`'${text}' is not a signal`);
  });
  it('0 only with allowZero', () => {
    expect(signal('0', true)).toBe(0);
    expect(refusal('0')).toMatch(/numbers go from 1 to 64/);
    expect(refusal('65', true)).toMatch(/numbers go from 0 to 64/);
  });
});

describe('names and numbers', () => {
  it('every signal 1..64 has a name that parses back to it', () => {
    for (const n of ALL_SIGNALS) {
      const name = signalName(n);
      if (n === 32 || n === 33) {
        expect(name).toBe(`signal ${n}`); // glibc's own, no name
        continue;
      }
      expect(signal(name), name).toBe(n);
    }
  });
  it('real-time names', () => {
    expect([signalName(SIGRTMIN), signalName(SIGRTMIN + 1), signalName(SIGRTMAX)]).toEqual(['SIGRTMIN', 'SIGRTMIN+1', 'SIGRTMIN+30']);
  });
  it('names outside 1..64 are plain numbers', () => expect(signalName(65)).toBe('signal 65'));
  it('standardSignalName covers 1..31 only', () => {
    expect(ALL_SIGNALS.filter((n) => standardSignalName(n) !== undefined)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
  });
  it('the table agrees with os.constants.signals of the running Node for every name it has', () => {
    const node = constants.signals as Readonly<Record<string, number>>;
    const checked: string[] = [];
    for (const [name, n] of Object.entries(node)) {
      const ours = parseSignal(name);
      expect(ours.ok && ours.value, name).toBe(n);
      checked.push(name);
    }
    // Node names every standard signal on Linux: none of ours may be missing from its table.
    for (const [name, n] of Object.entries(SIGNAL_NUMBERS)) expect(node[name], name).toBe(n);
    expect(checked.length).toBeGreaterThanOrEqual(31);
  });
  it('the table agrees with the kernel as `kill -l` of this machine prints it', async () => {
    const { execFileSync } = await import('node:child_process');
    // bash's `kill -l N` prints the name glibc gives N (without SIG).
    for (const n of [1, 9, 15, 17, 19, 28, 30, 31, 34, 35, 63, 64]) {
      const name = execFileSync('bash', ['-c', `kill -l ${n}`], { encoding: 'utf8' }).trim();
      expect(signal(name), `kill -l ${n} = ${name}`).toBe(n);
    }
  });
});

/** Signal name → disposition for 1..64. */
function tableOf(disposition: (signo: number) => string): Record<string, string> {
  return Object.fromEntries(ALL_SIGNALS.map((n) => [signalName(n), disposition(n)]));
}

function expectedTable(rest: string, overrides: Record<string, string>): Record<string, string> {
  return { ...Object.fromEntries(ALL_SIGNALS.map((n) => [signalName(n), rest])), ...overrides };
}

/** Left at SIG_DFL in both modes: uncatchable, processor faults, glibc's 32 and 33. */
const UNTOUCHABLE = {
  SIGKILL: 'default', SIGSTOP: 'default', SIGSEGV: 'default', SIGBUS: 'default', SIGFPE: 'default', SIGILL: 'default',
  'signal 32': 'default', 'signal 33': 'default',
};

describe('initDisposition', () => {
  it('the whole table', () => {
    expect(tableOf(initDisposition)).toEqual(expectedTable('forward', {
      SIGCHLD: 'reap', SIGTTIN: 'ignore', SIGTTOU: 'ignore', ...UNTOUCHABLE,
    }));
  });
  it('numbers outside 1..64 are default', () => {
    expect([initDisposition(0), initDisposition(65), initDisposition(-1)]).toEqual(['default', 'default', 'default']);
  });
});

describe('pauseDisposition', () => {
  it('the whole table', () => {
    expect(tableOf(pauseDisposition)).toEqual(expectedTable('ignore', { SIGINT: 'stop', SIGTERM: 'stop', ...UNTOUCHABLE }));
  });
  it('the stop messages are strsignal\'s', () => expect(STOP_DESCRIPTIONS).toEqual({ 2: 'Interrupt', 15: 'Terminated' }));
});
