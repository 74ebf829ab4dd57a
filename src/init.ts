// Init mode: run COMMAND as our child, forward signals to it, reap every
// zombie, and when it exits, wind down what is left and exit with its status.
// This module readies the process and starts the command; from then on
// src/supervisor.ts does the work, as src/init-phases.ts decides.
import { getSystemErrorMessage } from 'node:util';
import type { InitOptions } from './cli.ts';
import { EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, EXIT_NOT_FOUND } from './exit-codes.ts';
import { keepAlive } from './keep-alive.ts';
import {
  blockSignals, exitNow, ignoreSignal, isOpenDescriptor, nameMainThread, ownsTerminalForeground, setChildSubreaper,
  setParentDeathSignal, spawn, startSignalThread, unblockSignals, EACCES, EISDIR, ENOENT, ENOEXEC, ENOTDIR, EPERM,
} from './libc.ts';
import { classify, openDescriptors, PROBE_LIMIT, type Descriptors } from './descriptors.ts';
import { log, setLogFormat, setVerbose, verbose } from './log.ts';
import { canListenToRealtime, onSignal } from './signal-events.ts';
import { ALL_SIGNALS, initDisposition, signalName, SIGRTMIN, SIGUSR1 } from './signals.ts';
import { spawnRequest } from './spawn-request.ts';
import { Supervisor } from './supervisor.ts';

const STDIN = 0;

export function runInit(options: InitOptions): void {
  // First: ps, pgrep and busybox ps know the process by this name (src/libc.ts).
  nameMainThread('pause');
  // Before any handler of pause's is installed: none may ever run on the main thread.
  const handled = blockHandledSignals();
  // Before anything of pause's opens a descriptor.
  const descriptors = openDescriptors('/proc', isOpenDescriptor);
  setLogFormat(options.logFormat);
  setVerbose(options.verbose);
  becomeSubreaper(options.subreaper);
  if (options.parentDeathSignal !== null) {
    const error = setParentDeathSignal(options.parentDeathSignal);
    if (error) fatal(`cannot set the parent death signal: ${getSystemErrorMessage(-error)}`);
  }
  const supervisor = new Supervisor(options);
  listen(supervisor);
  const terminal = ownsTerminalForeground(STDIN) ? STDIN : null;
  supervisor.started(startCommand(options.command, classify(descriptors.fds), terminal), terminal);
  // After the spawn, so that the thread never takes the command's place under a task limit.
  takeSignalsOnOwnThread(handled);
  if (!descriptors.complete) warnNoProc();
  keepAlive();
  // A zombie inherited from whoever exec'd pause announces itself with no
  // SIGCHLD of ours: collect it now.
  supervisor.reap();
}

function fatal(message: string, code = EXIT_INTERNAL): never {
  log('error', message);
  exitNow(code);
}

/**
 * Orphans are re-parented to PID 1 of the namespace, or to the nearest
 * ancestor that is a child subreaper. When we are not PID 1 we must be that
 * subreaper, or our child's orphans escape us (and our exit status rules).
 * `required` (-s): failing is fatal.
 */
function becomeSubreaper(required: boolean): void {
  if (!required && process.pid === 1) return;
  const error = setChildSubreaper();
  if (error && required) fatal(`cannot register as child subreaper: ${getSystemErrorMessage(-error)}`);
  if (error) log('warn', `not PID 1 and cannot register as child subreaper (${getSystemErrorMessage(-error)}): orphans of the command will not be reaped by pause`);
  else verbose('registered as child subreaper', { required });
}

/** Gives each signal its init disposition. */
function listen(supervisor: Supervisor): void {
  for (const signo of ALL_SIGNALS) {
    switch (initDisposition(signo)) {
      case 'forward':
        if (!onSignal(signo, supervisor.forward)) ignoreSignal(signo);
        break;
      case 'reap':
        onSignal(signo, supervisor.reap);
        break;
      case 'ignore':
        ignoreSignal(signo);
        break;
      case 'default':
        break;
    }
  }
  if (!canListenToRealtime()) {
    log('warn', `this build cannot listen to real-time signals: ${signalName(SIGRTMIN)} and above are ignored, not forwarded`);
  }
}

/**
 * Spawns the command with the inherited `descriptors`, its group leading the
 * terminal's foreground on `terminal` if not null; returns its pid.
 */
function startCommand(command: readonly string[], descriptors: Descriptors, terminal: number | null): number {
  const spawned = spawn(spawnRequest(command, descriptors, terminal));
  const file = command[0] ?? '';
  if (!spawned.ok) {
    const reason = getSystemErrorMessage(-spawned.errno);
    if (spawned.step !== 'exec') fatal(`cannot start ${file}: ${spawned.step}: ${reason}`);
    fatal(`${file}: ${reason}`, execFailureCode(spawned.errno));
  }
  verbose(`started ${file}`, { pid: spawned.pid, pgid: spawned.pid, foreground: terminal !== null });
  return spawned.pid;
}

/** As shells and tini: 127 when there is nothing to run, 126 when it cannot be run. */
function execFailureCode(errno: number): number {
  if (errno === ENOENT) return EXIT_NOT_FOUND;
  if ([EACCES, EPERM, ENOEXEC, EISDIR, ENOTDIR].includes(errno)) return EXIT_CANNOT_EXECUTE;
  return EXIT_INTERNAL;
}

/**
 * Every signal pause listens to runs libuv's C handler, which writes its
 * number to a pipe that the main thread's event loop reads; the kernel runs
 * the handler on whichever thread does not block the signal. The main thread
 * must never be that thread. Real-time signals queue (up to
 * RLIMIT_SIGPENDING, ~100,000) and a standard one can be sent again as soon
 * as it is taken: a thread that takes a flood of them goes from one handler
 * straight to the next and never runs its own code, and for the main thread
 * that code is the loop that sees the child's exit. So the main thread blocks
 * them all, SIGUSR1 included, before any handler exists; returns them.
 */
function blockHandledSignals(): number[] {
  const handled = ALL_SIGNALS.filter((signo) => ['forward', 'reap'].includes(initDisposition(signo)));
  blockSignals(handled);
  return handled;
}

/**
 * Node's other threads leave all the handled signals open but SIGUSR1, which
 * the executable's --disable-sigusr1 blocks in every thread (so that it never
 * starts the inspector). A thread of pause's own (src/libc.ts
 * startSignalThread) takes SIGUSR1, and the others with Node's threads; one
 * sent before it exists waits, pending, for it. It is named `pause` too (a
 * thread takes its maker's name; renaming it would take /proc, or the main
 * thread's own name for a moment). Without it (a task limit), the main
 * thread must take SIGUSR1 itself, and one line says what that risks.
 */
function takeSignalsOnOwnThread(handled: readonly number[]): void {
  const error = startSignalThread(handled);
  if (error === 0) return;
  unblockSignals([SIGUSR1]);
  log('warn', `cannot start a thread to take signals (${getSystemErrorMessage(-error)}): a flood of SIGUSR1 may delay the command's exit being seen`);
}

/**
 * Without /proc, the command's exit status still comes out; one line says,
 * once, what pause could not do (docs/init-mode.md, "Without /proc").
 */
function warnNoProc(): void {
  const windDown = process.pid === 1
    ? ''
    : ', and after the command exits only its process group is signalled (descendants that left it are not found)';
  log('warn', `/proc is not mounted: descriptors above ${PROBE_LIMIT - 1} are not passed to the command${windDown}`);
}
