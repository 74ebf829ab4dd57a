// Init mode's supervisor: forwards the signals pause gets to the command,
// reaps every child, and once the command has exited winds down what is left
// and exits with the command's status. src/init-phases.ts decides what to do
// when; this module does it, with libc.
import { getSystemErrorMessage } from 'node:util';
import type { InitOptions } from './cli.ts';
import { exitStatus, graceLeft, GRACE_OVER, next, NO_CHILDREN, route, RUNNING, type Action, type Event, type Phase } from './init-phases.ts';
import { stopAfterInternalError } from './internal-error.ts';
import type { NativeForwarding } from './forward-count.ts';
import { reclaimTerminalForeground } from './libc-spawn.ts';
import { exitNow, kill, peekExited, reapOne, reapPid, ESRCH, type WaitResult } from './libc.ts';
import { log, verbose, type Fields } from './log.ts';
import { processesLeft } from './procfs.ts';
import { signalName, SIGKILL, SIGTERM } from './signals.ts';
import { decodeWaitStatus, type ChildEnd } from './wait-status.ts';

/** While winding down after SIGKILL, look again this often for processes forked since. */
const KILL_SWEEP_MS = 100;
const SWEEP_SIGNALS: readonly number[] = [SIGKILL];

export class Supervisor {
  private phase: Phase = RUNNING;
  private child = 0;
  /** The descriptor of the terminal whose foreground the command was given, if any. */
  private terminal: number | null = null;
  private readonly isPid1 = process.pid === 1;
  private readonly options: InitOptions;
  /** /proc if it is pause's own PID namespace's, else null (src/procfs.ts, procState). */
  private readonly procRoot: string | null;
  /** When pause got its first SIGTERM (performance.now()), if it did. */
  private stopAskedAt: number | undefined;
  /** The native code that sends signals before this listener hears of them (src/forwarder.ts), if any. */
  private native: NativeForwarding | null = null;

  constructor(options: InitOptions, procRoot: string | null) {
    this.options = options;
    this.procRoot = procRoot;
  }

  /** The command runs as `pid`; `terminal`: the descriptor of the terminal it was given, or null. */
  started(pid: number, terminal: number | null): void {
    this.child = pid;
    this.terminal = terminal;
  }

  /** From now on the native code sends what it can; this listener, the rest. */
  useNativeForwarding(native: NativeForwarding): void {
    this.native = native;
  }

  /** Listener for each signal that pause forwards: forwards it, then reaps (below). */
  readonly forwardThenReap = (signo: number): void => {
    const took = this.native?.tookOne(signo) ?? 'not-sent';
    if (took === 'sent') this.heard(signo);
    else if (took === 'not-sent') this.send(signo);
    if (signo === SIGTERM) this.stopAskedAt ??= performance.now();
    // libuv passes signals to JavaScript through a pipe and drops them when
    // the pipe is full, SIGCHLD included; reaping on every signal means a
    // child exit is never lost in a storm of other signals. After the kill,
    // not before: it stays off the forwarding latency, and the child's pid
    // cannot have been reused (it is ours until reaped).
    this.reapAndMaybeExit();
  };

  /**
   * Listener for SIGCHLD: collects every child that has exited. Each exit may
   * move the phase on, and the last one ends pause (_exit, via advance).
   */
  readonly reapAndMaybeExit = (): void => {
    for (;;) {
      const result = this.reapNext();
      if (result.kind === 'none') return;
      if (result.kind === 'no-children') {
        this.advance(NO_CHILDREN);
        return;
      }
      const end = decodeWaitStatus(result.status);
      if (result.pid === this.child && this.phase.name === 'running') this.commandExited(end);
      // tini's words, which log scrapers written for tini look for; JSON carries the pid as a field too.
      else if (this.options.warnOnReap) log('warn', `Reaped zombie process with pid=${result.pid}`, describe(end), { pid: result.pid });
    }
  };

  /**
   * One exited child, reaped. While the native code may send to the
   * command, the command is never reaped before the code is disarmed:
   * its pid would be free for reuse by a process outside pause's tree. So
   * each exit is looked at first (left unreaped), and the one reaped is the
   * one looked at.
   */
  private reapNext(): WaitResult {
    if (!this.native?.armed) return reapOne();
    const next = peekExited();
    if (next.kind !== 'exited') return next;
    if (next.pid === this.child) this.native.disarm();
    return reapPid(next.pid);
  }

  /** Listener for an exception nothing caught: src/internal-error.ts. */
  readonly failed = (error: unknown): never => {
    // Before the stop reaps the command (see reapNext).
    this.native?.disarm();
    this.catchUp();
    return stopAfterInternalError(error, {
      child: this.child,
      end: this.phase.name === 'running' ? null : this.phase.end,
      // As after the command's exit: an engine's stop clock may be running.
      gracePeriodMs: graceLeft(this.options.gracePeriodMs, this.sinceStopMs()),
      isPid1: this.isPid1,
      procRoot: this.procRoot,
      exitCode: (end) => exitStatus(end, this.options.remapExit).code,
    });
  };

  /**
   * The signals the native code sent whose word from libuv has not come yet:
   * a command that dies of the SIGTERM it was sent can have its SIGCHLD read
   * first. Heard now, before the command's exit is acted on: the grace period
   * counts from pause's SIGTERM, and the log says it was forwarded.
   */
  private catchUp(): void {
    for (const signo of this.native?.catchUp() ?? []) {
      this.heard(signo);
      if (signo === SIGTERM) this.stopAskedAt ??= performance.now();
    }
  }

  /** What send says of a signal the native code sent. */
  private heard(signo: number): void {
    if (!this.options.verbose) return;
    const where = route(RUNNING, signo, this.options.rewrite);
    if (where.kind === 'forward') verbose(`forwarded ${signalName(where.signo)} to ${this.commandTarget()}`, where.signo === signo ? {} : { received: signalName(signo) });
  }

  /** Whom signals go to, as log lines say it. */
  private commandTarget(): string {
    return this.options.processGroup ? `process group ${this.child}` : `pid ${this.child}`;
  }

  private send(signo: number): void {
    const where = route(this.phase, signo, this.options.rewrite);
    if (where.kind === 'late') {
      verbose(`${signalName(signo)} received after the command exited: not forwarded`);
      return;
    }
    if (where.kind === 'drop') {
      verbose(`${signalName(signo)} dropped (--rewrite)`);
      return;
    }
    const { processGroup } = this.options;
    const error = kill(processGroup ? -this.child : this.child, where.signo);
    // The hot path ends here: the JavaScript runs interpreted (--jitless), so
    // log text is only built when it is going to be written.
    if (error === 0 && !this.options.verbose) return;
    const to = this.commandTarget();
    const target = signalName(where.signo);
    if (error === 0) verbose(`forwarded ${target} to ${to}`, where.signo === signo ? {} : { received: signalName(signo) });
    // ESRCH: the child is ours until reaped, so only its group can be empty
    // (-g, once the child has moved to another group). The signal reached
    // no one: said, as tini does.
    else if (error === ESRCH) log('warn', `${target} not forwarded: no process is left in ${to}`);
    else log('warn', `cannot forward ${target} to ${to}: ${getSystemErrorMessage(-error)}`);
  }

  /** How long ago pause got its first SIGTERM; undefined if it did not. */
  private sinceStopMs(): number | undefined {
    return this.stopAskedAt === undefined ? undefined : performance.now() - this.stopAskedAt;
  }

  private commandExited(end: ChildEnd): void {
    this.catchUp();
    verbose(`command exited`, { pid: this.child, ...describe(end) });
    // We gave the terminal to the child's group; take it back, so that
    // whatever pause or its parent does next is not in the background.
    if (this.terminal !== null) reclaimTerminalForeground(this.terminal);
    this.advance({ kind: 'command-exited', end, sinceStopMs: this.sinceStopMs() });
  }

  /** Moves to the phase after `event` and carries out what it takes. */
  private advance(event: Event): void {
    const transition = next(this.phase, event, this.options);
    this.phase = transition.phase;
    for (const action of transition.actions) this.carryOut(action);
  }

  private carryOut(action: Action): void {
    switch (action.kind) {
      case 'signal-the-rest':
        this.signalTheRest(action.signals);
        return;
      case 'start-grace-timer':
        setTimeout(() => this.advance(GRACE_OVER), action.ms).unref();
        return;
      case 'start-kill-sweep':
        setInterval(() => { this.signalTheRest(SWEEP_SIGNALS); this.reapAndMaybeExit(); }, KILL_SWEEP_MS).unref();
        return;
      case 'exit':
        this.finish(action.code, action.status);
    }
  }

  /** Signals every process left after the child (src/procfs.ts processesLeft says which). */
  private signalTheRest(signals: readonly number[]): void {
    const targets = processesLeft(this.child, this.isPid1, this.procRoot);
    if (targets.length === 0) return;
    verbose(`sending ${signals.map(signalName).join(' and ')} to the processes that are left`, { count: this.isPid1 ? 'all' : targets.length });
    for (const pid of targets) for (const signo of signals) kill(pid, signo);
  }

  private finish(code: number, status: number): never {
    verbose(`exiting`, { code, ...(code === status ? {} : { remapped: status }) });
    exitNow(code);
  }
}

function describe(end: ChildEnd): Fields {
  return end.kind === 'exited'
    ? { exit: end.code }
    : { signal: signalName(end.signo), ...(end.coreDumped ? { core: true } : {}) };
}
