// Init mode: run COMMAND as our child, forward signals to it, reap every
// zombie, and when it exits, wind down what is left and exit with its status.
// This module readies the process and starts the command; from then on
// src/supervisor.ts does the work, as src/init-phases.ts decides.
import { getSystemErrorMessage } from 'node:util';
import type { InitOptions } from './cli.ts';
import { EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, EXIT_NOT_FOUND } from './exit-codes.ts';
import { bindingPaths, fallbackLine } from './internals.ts';
import { keepAlive } from './keep-alive.ts';
import {
  blockSignals, exitNow, ignoreSignal, nameMainThread, setChildSubreaper, setParentDeathSignal, unblockSignals, waitid,
  EACCES, EISDIR, ENOENT, ENOEXEC, ENOTDIR, EPERM,
} from './libc.ts';
import { isOpenDescriptor, ownsTerminalForeground, spawn } from './libc-spawn.ts';
import { classify, openDescriptors, PROBE_LIMIT, type Descriptors } from './descriptors.ts';
import { log, setLogFormat, setVerbose, verbose } from './log.ts';
import { otherThreads, procState, type ProcState } from './procfs.ts';
import { canListenToRealtime, onSignal } from './signal-events.ts';
import { ALL_SIGNALS, initDisposition, signalName, SIGRTMIN, SIGTERM, SIGUSR1 } from './signals.ts';
import { spawnRequest } from './spawn-request.ts';
import { Supervisor } from './supervisor.ts';
import { armNativeForwarding, prepareNativeForwarding, type NoNativeForwarding, type PreparedForwarding } from './forwarder.ts';
import { route, RUNNING } from './init-phases.ts';

const STDIN = 0;

export function runInit(options: InitOptions): void {
  // First, before any handler of pause's exists and before any line is
  // written: none may ever run on the main thread, SIGPIPE included.
  blockHandledSignals();
  // Then: ps, pgrep and busybox ps know the process by this name (src/libc.ts).
  nameMainThread('pause');
  // Decided once: a /proc of another PID namespace is used for nothing, as if
  // none were mounted (src/procfs.ts).
  const proc = procState();
  const procRoot = proc === 'own' ? '/proc' : null;
  // Before anything of pause's opens a descriptor.
  const descriptors = openDescriptors(procRoot, isOpenDescriptor);
  setLogFormat(options.logFormat);
  setVerbose(options.verbose);
  const supervisor = new Supervisor(options, procRoot);
  // In place of src/main.ts's process.exit(1): once the command runs, an
  // internal error must not drop it (src/internal-error.ts).
  process.removeAllListeners('uncaughtException');
  process.on('uncaughtException', supervisor.failed);
  becomeSubreaper(options.subreaper);
  if (options.parentDeathSignal !== null) {
    const error = setParentDeathSignal(options.parentDeathSignal);
    if (error) fatal(`cannot set the parent death signal: ${getSystemErrorMessage(-error)}`);
  }
  const forwarded = listen(supervisor);
  reportInternals();
  const native = prepareForwarding(options, forwarded, procRoot);
  // What runs right after the spawn is looked up before it (~35 µs each):
  // until the main thread is back in its loop, a signal whose thread shares
  // its core waits for it (docs/benchmarks.md).
  waitid.resolve();
  const terminal = ownsTerminalForeground(STDIN) ? STDIN : null;
  const pid = startCommand(options.command, classify(descriptors.fds), terminal);
  supervisor.started(pid, terminal);
  // After the spawn, so that its thread never takes the command's place under a task limit.
  forwardNatively(supervisor, native, options.processGroup ? -pid : pid);
  if (!descriptors.complete) warnNoProc(proc);
  keepAlive();
  // A zombie inherited from whoever exec'd pause announces itself with no
  // SIGCHLD of ours: collect it now.
  supervisor.reapAndMaybeExit();
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

/** Gives each signal its init disposition; returns the signals listened to for forwarding. */
function listen(supervisor: Supervisor): number[] {
  const forwarded: number[] = [];
  for (const signo of ALL_SIGNALS) {
    switch (initDisposition(signo)) {
      case 'forward':
        if (onSignal(signo, supervisor.forwardThenReap)) forwarded.push(signo);
        else ignoreSignal(signo);
        break;
      case 'reap':
        // Without it no exit is ever seen: fatal, before there is a command to lose.
        if (!onSignal(signo, supervisor.reapAndMaybeExit)) fatal(`cannot listen to ${signalName(signo)}: no exit of the command could be seen`);
        break;
      case 'ignore':
        ignoreSignal(signo);
        break;
      case 'default':
        break;
    }
  }
  if (!canListenToRealtime()) {
    const consequence = `${signalName(SIGRTMIN)} and above are ignored, not forwarded`;
    log('warn', fallbackLine('signal_wrap', `${consequence}; the others go through process.on`)
      ?? `this build cannot listen to real-time signals: ${consequence}`);
  }
  return forwarded;
}

/**
 * From the spawn on, the executable's native code sends each forwarded
 * signal to the command as the kernel delivers it, from a thread of pause's
 * own that waits for them as tini does (src/forwarder.ts): no event loop in
 * between. Armed after the spawn, so that it knows whom to signal, with all
 * else prepared before it; a signal that came before is sent by the
 * listener, as then. Node's other threads block
 * SIGUSR1 (the executable's --disable-sigusr1, so that it never starts the
 * inspector): one sent before the thread exists waits, pending, for it.
 * Without the thread (a task limit), the main thread must take SIGUSR1
 * itself, and one line says what that risks. The thread is named `pause`
 * too: a thread takes its maker's name (renaming it would take /proc, or the
 * main thread's own name for a moment).
 */
function forwardNatively(supervisor: Supervisor, native: PreparedForwarding | NoNativeForwarding, target: number): void {
  if (native.kind === 'listener') {
    verbose(`signals are forwarded by the listener: ${native.why}`);
    unblockSignals([SIGUSR1]);
    return;
  }
  const setUp = armNativeForwarding(native, target);
  supervisor.useNativeForwarding(setUp.forwarding);
  if (setUp.threadError === 0) {
    verbose('signals are forwarded by native code', { signals: setUp.signals, nodeThreadsClosed: setUp.primed });
    return;
  }
  unblockSignals([SIGUSR1]);
  log('warn', `cannot start a thread to take signals (${getSystemErrorMessage(-setUp.threadError)}): a flood of SIGUSR1 may delay the command's exit being seen`);
}

/**
 * Before the spawn: native forwarding's code in place of libuv's handlers,
 * sending nothing until forwardNatively arms it (src/forwarder.ts).
 */
function prepareForwarding(options: InitOptions, forwarded: readonly number[], procRoot: string | null): PreparedForwarding | NoNativeForwarding {
  const sendAs = (signo: number): number => {
    const where = route(RUNNING, signo, options.rewrite);
    return where.kind === 'forward' ? where.signo : 0;
  };
  // The listener hears of a signal the code sent only to log it, or to start
  // the grace period's clock at pause's own SIGTERM (src/init-phases.ts).
  const tell = (signo: number): boolean => options.verbose || signo === SIGTERM;
  // Node's threads, listed before the thread exists: it must not be among them.
  return prepareNativeForwarding(forwarded, sendAs, tell, procRoot ? otherThreads(procRoot) : []);
}

/** One line if libc is reached through node:ffi for want of its binding; under --verbose, the path each binding took. */
function reportInternals(): void {
  const line = fallbackLine('ffi', 'libc is called through node:ffi');
  if (line) log('warn', line);
  verbose("Node's internal bindings", Object.fromEntries(bindingPaths()));
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
 * them all, SIGUSR1 included, before any handler exists; the forwarding
 * thread (src/forwarder.ts) is started with this mask, and takes them with
 * rt_sigtimedwait instead of a handler.
 *
 * pause's own write to a pipe whose reader is gone must never signal the
 * command; a SIGPIPE that another process sends pause (`kill -PIPE`) is
 * forwarded, as tini does. The kernel tells the two apart for us: the
 * SIGPIPE of a failed write is directed at the writing thread (send_sig to
 * `current`), a kill(2) at the whole process, delivered to any one thread
 * that does not block it. Every write of pause is made by the main thread,
 * so the main thread blocks SIGPIPE with the others, before any log line can
 * be written: its own SIGPIPE then stays pending on it, never delivered (standard
 * signals do not queue: one at most, whatever the number of writes), the write
 * fails with EPIPE and src/log.ts drops the line. A kill's SIGPIPE is the
 * process's: the forwarding thread takes it (or, before it has, one of Node's
 * other threads, started before this and leaving it open) and forwards it like
 * any signal. Nothing here needs /proc. The pending one is
 * not the command's: a new process starts with no pending signal, and its mask
 * comes from the spawn attributes (src/libc-spawn.ts). Until init mode's handlers
 * are in place SIGPIPE is ignored (Node sets that), so no earlier write, nor
 * pause mode's, can raise one. The main thread must never unblock SIGPIPE
 * later; test/init-own-writes.test.ts holds the pinned Node's threads to
 * taking a kill's.
 */
function blockHandledSignals(): void {
  blockSignals(ALL_SIGNALS.filter((signo) => ['forward', 'reap'].includes(initDisposition(signo))));
}

/**
 * Without /proc of its own, the command's exit status still comes out; one
 * line says, once, what pause could not do (docs/init-mode.md, "Without /proc").
 */
function warnNoProc(proc: ProcState): void {
  const windDown = process.pid === 1
    ? ''
    : ', and after the command exits only its process group is signalled (descendants that left it are not found)';
  const why = proc === 'foreign' ? "/proc is another PID namespace's (mount the namespace's own)" : '/proc is not mounted';
  log('warn', `${why}: descriptors above ${PROBE_LIMIT - 1} are not passed to the command${windDown}`);
}
