// The Linux signal table and what pause does with each signal. Pure: no I/O.
//
// Numbers are the generic Linux ones (include/uapi/asm-generic/signal.h), which
// x86-64 and arm64 share. The real-time range is glibc's view of it: the kernel
// numbers 32..64, but glibc keeps 32 and 33 for its own thread machinery
// (SIGCANCEL, SIGSETXID), so SIGRTMIN is 34 for every program linked with it.

export const SIGNAL_NUMBERS = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
} as const;

export type StandardSignalName = keyof typeof SIGNAL_NUMBERS;

export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

export const {
  SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGBUS, SIGFPE, SIGKILL, SIGUSR1, SIGSEGV, SIGTERM,
  SIGCHLD, SIGCONT, SIGPIPE, SIGSTOP, SIGTTIN, SIGTTOU, SIGWINCH,
} = SIGNAL_NUMBERS;

// Aliases that `kill -l` and other tools accept.
const ALIASES: Readonly<Record<string, number>> = { SIGIOT: 6, SIGPOLL: 29, SIGCLD: 17 };

const NAMES_BY_NUMBER = new Map<number, StandardSignalName>(
  Object.entries(SIGNAL_NUMBERS).map(([name, n]) => [n, name as StandardSignalName]),
);

/** The name of a signal number: `SIGTERM`, `SIGRTMIN+3`, or `signal 32` for glibc's own. */
export function signalName(signo: number): string {
  const standard = NAMES_BY_NUMBER.get(signo);
  if (standard) return standard;
  if (signo >= SIGRTMIN && signo <= SIGRTMAX) {
    return signo === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${signo - SIGRTMIN}`;
  }
  return `signal ${signo}`;
}

/** The standard name of a signal 1..31, as Node's `process.on` wants it. */
export function standardSignalName(signo: number): StandardSignalName | undefined {
  return NAMES_BY_NUMBER.get(signo);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Reads a signal as a user writes it: `TERM`, `SIGTERM`, `sigterm`, `15`,
 * `RTMIN+2`, `SIGRTMAX-1`. With `allowZero`, `0` means "no signal".
 */
export function parseSignal(text: string, allowZero = false): Parsed<number> {
  const bad = (why: string): Parsed<number> => ({ ok: false, error: `'${text}' is not a signal: ${why}` });
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    if (n === 0 && allowZero) return { ok: true, value: 0 };
    if (n >= 1 && n <= SIGRTMAX) return { ok: true, value: n };
    return bad(`numbers go from ${allowZero ? 0 : 1} to ${SIGRTMAX}`);
  }
  const upper = trimmed.toUpperCase();
  const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
  const standard = (SIGNAL_NUMBERS as Readonly<Record<string, number>>)[name] ?? ALIASES[name];
  if (standard !== undefined) return { ok: true, value: standard };
  const rt = /^SIGRT(MIN|MAX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const offset = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + offset;
    if (n >= SIGRTMIN && n <= SIGRTMAX) return { ok: true, value: n };
    return bad(`real-time signals go from SIGRTMIN (${SIGRTMIN}) to SIGRTMAX (${SIGRTMAX})`);
  }
  return bad('use a name such as TERM or SIGUSR1, or a number from 1 to 64');
}

/**
 * What the init mode does with a signal sent to it:
 * - `forward`: handled and passed on to the child (after --rewrite).
 * - `reap`: SIGCHLD, the cue to collect exited children.
 * - `ignore`: SIGTTIN/SIGTTOU. Set to SIG_IGN, as tini does, so that pause, which is
 *   in the background once its child owns the terminal, is never stopped by
 *   writing its log to the terminal; with a handler instead, such a write would
 *   raise the signal again and again.
 * - `default`: left alone. SIGKILL and SIGSTOP cannot be caught. SIGSEGV, SIGBUS,
 *   SIGFPE and SIGILL are the processor's fault reports: a handler that returns
 *   makes the faulting instruction run again, so a real fault would spin forever
 *   instead of ending the process. (Node itself catches SIGSEGV, for
 *   WebAssembly's traps; finding none, its handler restores the default and
 *   raises it again.) Sent with kill(2) they are dropped as PID 1 (the kernel
 *   drops signals a namespace's init has no handler for) and end pause
 *   otherwise: test/fault-signals.test.ts. glibc's 32 and 33 are not ours.
 */
export type InitDisposition = 'forward' | 'reap' | 'ignore' | 'default';

export function initDisposition(signo: number): InitDisposition {
  switch (signo) {
    case SIGCHLD: return 'reap';
    case SIGTTIN: case SIGTTOU: return 'ignore';
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGFPE: case SIGILL: return 'default';
  }
  if ((signo >= 1 && signo <= 31) || (signo >= SIGRTMIN && signo <= SIGRTMAX)) return 'forward';
  return 'default';
}

/**
 * What the pause mode does with a signal: SIGINT and SIGTERM end it (`stop`);
 * everything it may ignore is set to SIG_IGN (`ignore`), SIGCHLD included, which
 * makes the kernel reap its children; the rest is left alone, as above.
 */
export type PauseDisposition = 'stop' | 'ignore' | 'default';

export function pauseDisposition(signo: number): PauseDisposition {
  if (signo === SIGINT || signo === SIGTERM) return 'stop';
  if (signo === SIGCHLD || signo === SIGTTIN || signo === SIGTTOU) return 'ignore';
  return initDisposition(signo) === 'forward' ? 'ignore' : 'default';
}

/** Every signal number a process can be sent, 1..64. */
export const ALL_SIGNALS: readonly number[] = Array.from({ length: SIGRTMAX }, (_, i) => i + 1);

/** strsignal(3)'s text for the two signals that stop pause mode, as pause.c prints them. */
export const STOP_DESCRIPTIONS: Readonly<Record<number, string>> = {
  [SIGINT]: 'Interrupt',
  [SIGTERM]: 'Terminated',
};
