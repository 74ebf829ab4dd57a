// Init mode's phases and what each event does in each. Pure: no I/O, so the
// tests drive it without processes; src/supervisor.ts carries out its answers.
//
//   running ──command exited──▶ terminating ──grace period over──▶ killing
//      └──command exited, --grace-period 0───────────────────────────▲
//   terminating, killing ──no child left──▶ exit with the command's status
//
// A signal pause receives never changes the phase: `route` says what becomes
// of it, without the allocations of a transition (it is the hot path).
import type { InitOptions } from './cli.ts';
import { SIGCONT, SIGKILL, SIGTERM } from './signals.ts';
import { exitCodeFor, type ChildEnd } from './wait-status.ts';

export type Phase =
  | { readonly name: 'running' }
  | { readonly name: 'terminating'; readonly end: ChildEnd } // SIGTERM sent, grace period running
  | { readonly name: 'killing'; readonly end: ChildEnd }; // SIGKILL sent, waiting for the last exits

export const RUNNING: Phase = { name: 'running' };

export type Event =
  /** `sinceStopMs`: how long before, if at all, pause itself got SIGTERM (see `graceLeft`). */
  | { readonly kind: 'command-exited'; readonly end: ChildEnd; readonly sinceStopMs?: number | undefined }
  | { readonly kind: 'grace-over' }
  | { readonly kind: 'no-children' };

export const GRACE_OVER: Event = { kind: 'grace-over' };
export const NO_CHILDREN: Event = { kind: 'no-children' };

export type Action =
  /** Send each of `signals` to every process left after the command. */
  | { readonly kind: 'signal-the-rest'; readonly signals: readonly number[] }
  /** Deliver GRACE_OVER after `ms`. */
  | { readonly kind: 'start-grace-timer'; readonly ms: number }
  /** Until none is left, SIGKILL again what was forked since, and reap. */
  | { readonly kind: 'start-kill-sweep' }
  /** Exit with `code`; `status` is the command's own, before --remap-exit. */
  | { readonly kind: 'exit'; readonly code: number; readonly status: number };

export interface Transition {
  readonly phase: Phase;
  readonly actions: readonly Action[];
}

/** The options that decide the transitions. */
export type Policy = Pick<InitOptions, 'gracePeriodMs' | 'remapExit'>;

// A stopped process acts on SIGTERM only once continued.
const TERMINATE: readonly number[] = [SIGTERM, SIGCONT];
const KILL: readonly number[] = [SIGKILL];

/** The phase after `event` in `phase`, and what to do for it, in order. */
export function next(phase: Phase, event: Event, policy: Policy): Transition {
  switch (event.kind) {
    case 'command-exited': {
      if (phase.name !== 'running') return { phase, actions: [] };
      const ms = graceLeft(policy.gracePeriodMs, event.sinceStopMs);
      if (ms === 0) return kill(event.end);
      return {
        phase: { name: 'terminating', end: event.end },
        actions: [{ kind: 'signal-the-rest', signals: TERMINATE }, { kind: 'start-grace-timer', ms }],
      };
    }
    case 'grace-over':
      return phase.name === 'terminating' ? kill(phase.end) : { phase, actions: [] };
    case 'no-children':
      if (phase.name === 'running') return { phase, actions: [] };
      return { phase, actions: [{ kind: 'exit', ...exitStatus(phase.end, policy.remapExit) }] };
  }
}

/**
 * The grace period the others get once the command has exited. When pause
 * itself got SIGTERM first, an engine is stopping the container and its own
 * clock runs from that SIGTERM (`docker stop`, `podman stop`: 10 s, then
 * SIGKILL to pause, which loses the command's status: 137). So the grace
 * period counts from pause's SIGTERM, not from the command's exit: pause is
 * done within the grace period of the engine's SIGTERM, however long the
 * command took, as long as it exited within it.
 */
export function graceLeft(gracePeriodMs: number, sinceStopMs: number | undefined): number {
  return Math.max(0, gracePeriodMs - (sinceStopMs ?? 0));
}

function kill(end: ChildEnd): Transition {
  return { phase: { name: 'killing', end }, actions: [{ kind: 'signal-the-rest', signals: KILL }, { kind: 'start-kill-sweep' }] };
}

/** What pause exits with: the command's status (128+N for death by signal N), or 0 when --remap-exit names it. */
export function exitStatus(end: ChildEnd, remapExit: ReadonlySet<number>): { code: number; status: number } {
  const status = exitCodeFor(end);
  return { code: remapExit.has(status) ? 0 : status, status };
}

export type Route =
  | { readonly kind: 'forward'; readonly signo: number } // signo after --rewrite
  | { readonly kind: 'drop' } // --rewrite FROM:0
  | { readonly kind: 'late' }; // the command has exited: there is no one to forward to

const DROP: Route = { kind: 'drop' };
const LATE: Route = { kind: 'late' };

/** What becomes of signal `signo`, received in `phase`. */
export function route(phase: Phase, signo: number, rewrite: ReadonlyMap<number, number>): Route {
  if (phase.name !== 'running') return LATE;
  const target = rewrite.get(signo) ?? signo;
  return target === 0 ? DROP : { kind: 'forward', signo: target };
}
