// Init mode's phases (src/init-phases.ts), driven by events without processes:
// what the supervisor does when the command exits, when the grace period is
// over, when no child is left, and with each signal it receives.
import { describe, expect, it } from 'vitest';
import { exitStatus, GRACE_OVER, next, NO_CHILDREN, route, RUNNING, type Action, type Event, type Phase, type Policy } from '../src/init-phases.ts';
import { SIGCONT, SIGHUP, SIGINT, SIGKILL, SIGRTMIN, SIGTERM, SIGUSR1 } from '../src/signals.ts';
import type { ChildEnd } from '../src/wait-status.ts';

const EXIT_3: ChildEnd = { kind: 'exited', code: 3 };
const BY_SIGTERM: ChildEnd = { kind: 'signaled', signo: SIGTERM, coreDumped: false };
const policy = (over: Partial<Policy> = {}): Policy => ({ gracePeriodMs: 10_000, remapExit: new Set(), ...over });
const exited = (end: ChildEnd, sinceStopMs?: number): Event => ({ kind: 'command-exited', end, sinceStopMs });
const terminating = (end: ChildEnd): Phase => ({ name: 'terminating', end });
const killing = (end: ChildEnd): Phase => ({ name: 'killing', end });
const TERMINATE_THE_REST = { kind: 'signal-the-rest', signals: [SIGTERM, SIGCONT] } as const;
const KILL_THE_REST = [{ kind: 'signal-the-rest', signals: [SIGKILL] }, { kind: 'start-kill-sweep' }] as const;

describe('the command exits', () => {
  it('while running: SIGTERM and SIGCONT to the rest, and the grace period starts', () => {
    expect(next(RUNNING, exited(EXIT_3), policy({ gracePeriodMs: 2500 }))).toEqual({
      phase: terminating(EXIT_3),
      actions: [TERMINATE_THE_REST, { kind: 'start-grace-timer', ms: 2500 }],
    });
  });

  it('while running with --grace-period 0: straight to SIGKILL, no grace timer', () => {
    expect(next(RUNNING, exited(BY_SIGTERM), policy({ gracePeriodMs: 0 }))).toEqual({
      phase: killing(BY_SIGTERM), actions: KILL_THE_REST,
    });
  });

  // docker stop and podman stop SIGKILL pause 10 s after their SIGTERM: the grace period counts from that SIGTERM.
  it('after pause itself got SIGTERM: the grace period counts from that SIGTERM', () => {
    expect(next(RUNNING, exited(EXIT_3, 1500), policy({ gracePeriodMs: 5000 })).actions)
      .toEqual([TERMINATE_THE_REST, { kind: 'start-grace-timer', ms: 3500 }]);
  });

  it('after pause itself got SIGTERM longer ago than the grace period: straight to SIGKILL', () => {
    expect(next(RUNNING, exited(EXIT_3, 7000), policy({ gracePeriodMs: 5000 }))).toEqual({
      phase: killing(EXIT_3), actions: KILL_THE_REST,
    });
  });

  it.each([terminating(EXIT_3), killing(EXIT_3)])('a second exit in %j changes nothing: the first status stays', (phase) => {
    expect(next(phase, exited(BY_SIGTERM), policy())).toEqual({ phase, actions: [] });
  });
});

describe('the grace period is over', () => {
  it('while terminating: SIGKILL to the rest, again until none is left; the status is still the command\'s', () => {
    expect(next(terminating(BY_SIGTERM), GRACE_OVER, policy())).toEqual({ phase: killing(BY_SIGTERM), actions: KILL_THE_REST });
  });

  it.each([RUNNING, killing(EXIT_3)])('in %j it changes nothing', (phase) => {
    expect(next(phase, GRACE_OVER, policy())).toEqual({ phase, actions: [] });
  });
});

describe('no child is left', () => {
  it.each([terminating(EXIT_3), killing(EXIT_3)])('in %j: exit with the command\'s code', (phase) => {
    expect(next(phase, NO_CHILDREN, policy())).toEqual({ phase, actions: [{ kind: 'exit', code: 3, status: 3 }] });
  });

  it('after death by a signal: 128+N', () => {
    expect(next(killing(BY_SIGTERM), NO_CHILDREN, policy()).actions).toEqual([{ kind: 'exit', code: 128 + SIGTERM, status: 128 + SIGTERM }]);
  });

  it('while running, changes nothing (the command is a child)', () => {
    expect(next(RUNNING, NO_CHILDREN, policy())).toEqual({ phase: RUNNING, actions: [] });
  });
});

describe('a whole wind-down', () => {
  it('running → terminating → killing → exit, the command\'s status carried to the end', () => {
    const phases: string[] = [];
    let phase = RUNNING;
    let actions: readonly Action[] = [];
    for (const event of [exited(EXIT_3), GRACE_OVER, NO_CHILDREN]) {
      ({ phase, actions } = next(phase, event, policy()));
      phases.push(phase.name);
    }
    expect(phases).toEqual(['terminating', 'killing', 'killing']);
    expect(actions).toEqual([{ kind: 'exit', code: 3, status: 3 }]);
  });
});

describe('--remap-exit', () => {
  it.each([
    [EXIT_3, [3], 0],
    [EXIT_3, [4, 5], 3],
    [BY_SIGTERM, [128 + SIGTERM], 0],
    [BY_SIGTERM, [SIGTERM], 128 + SIGTERM],
    [{ kind: 'exited', code: 0 } as const, [0], 0],
  ] as const)('%j with %j exits %i', (end, remap, code) => {
    expect(exitStatus(end, new Set(remap))).toEqual({ code, status: end.kind === 'exited' ? end.code : 128 + end.signo });
  });

  it('the exit action keeps the command\'s own status beside the remapped code', () => {
    expect(next(terminating(EXIT_3), NO_CHILDREN, policy({ remapExit: new Set([3]) })).actions)
      .toEqual([{ kind: 'exit', code: 0, status: 3 }]);
  });
});

describe('a signal pause receives', () => {
  const none = new Map<number, number>();

  it.each([SIGHUP, SIGTERM, SIGUSR1, SIGRTMIN + 3])('signal %i is forwarded as it is while running', (signo) => {
    expect(route(RUNNING, signo, none)).toEqual({ kind: 'forward', signo });
  });

  it('--rewrite FROM:TO forwards TO; other signals pass unchanged', () => {
    const rewrite = new Map([[SIGTERM, SIGINT]]);
    expect(route(RUNNING, SIGTERM, rewrite)).toEqual({ kind: 'forward', signo: SIGINT });
    expect(route(RUNNING, SIGHUP, rewrite)).toEqual({ kind: 'forward', signo: SIGHUP });
  });

  it('--rewrite FROM:0 drops it', () => {
    expect(route(RUNNING, SIGHUP, new Map([[SIGHUP, 0]]))).toEqual({ kind: 'drop' });
  });

  it.each([terminating(EXIT_3), killing(EXIT_3)])('after the command exited (%j) it is not forwarded, rewritten or not', (phase) => {
    expect(route(phase, SIGTERM, none)).toEqual({ kind: 'late' });
    expect(route(phase, SIGTERM, new Map([[SIGTERM, SIGINT]]))).toEqual({ kind: 'late' });
  });
});
