// Init mode: run COMMAND as our child, forward signals to it, reap every
// zombie, and when it exits, wind down what is left and exit with its status.
import { getSystemErrorMessage } from 'node:util';
import type { InitOptions } from './cli.ts';
import { EXIT_CANNOT_EXECUTE, EXIT_INTERNAL, EXIT_NOT_FOUND } from './exit-codes.ts';
import { keepAlive } from './keep-alive.ts';
import {
  blockSignals, exitNow, ignoreSignal, isOpenDescriptor, kill, nameMainThread, ownsTerminalForeground, reapOne, reclaimTerminalForeground,
  setChildSubreaper, setParentDeathSignal, spawn, unblockSignals, EACCES, EISDIR, ENOENT, ENOEXEC, ENOTDIR, EPERM, ESRCH,
} from './libc.ts';
import { log, setLogFormat, type Fields } from './log.ts';
import { descendantsOf, otherThreadsAccepting } from './procfs.ts';
import { canListenToRealtime, onSignal } from './signal-events.ts';
import { ALL_SIGNALS, initDisposition, signalName, SIGCONT, SIGKILL, SIGRTMIN, SIGTERM, SIGUSR1 } from './signals.ts';
import { decodeWaitStatus, exitCodeFor, type ChildEnd } from './wait-status.ts';

const STDIN = 0;
const STDIO = [0, 1, 2] as const;
/** sd_listen_fds(3): socket-activation descriptors start at 3. */
const SD_LISTEN_FDS_START = 3;
/** While winding down after SIGKILL, look again this often for processes forked since. */
const KILL_SWEEP_MS = 100;

type Phase =
  | { name: 'running' }
  | { name: 'terminating'; end: ChildEnd } // SIGTERM sent, grace period running
  | { name: 'killing'; end: ChildEnd }; // SIGKILL sent, waiting for the last exits

export function runInit(options: InitOptions): void {
  // First: ps, pgrep and busybox ps know the process by this name (src/libc.ts).
  nameMainThread('pause');
  setLogFormat(options.logFormat);
  const verbose = (message: string, fields?: Fields): void => {
    if (options.verbose) log('info', message, fields);
  };
  function fatal(message: string, code = EXIT_INTERNAL): never {
    log('error', message);
    exitNow(code);
  }
  const isPid1 = process.pid === 1;

  // Orphans are re-parented to PID 1 of the namespace, or to the nearest
  // ancestor that is a child subreaper. When we are not PID 1 we must be that
  // subreaper, or our child's orphans escape us (and our exit status rules).
  if (options.subreaper || !isPid1) {
    const error = setChildSubreaper();
    if (error && options.subreaper) fatal(`cannot register as child subreaper: ${getSystemErrorMessage(-error)}`);
    if (error) log('warn', `not PID 1 and cannot register as child subreaper (${getSystemErrorMessage(-error)}): orphans of the command will not be reaped by pause`);
  }
  if (options.parentDeathSignal !== null) {
    const error = setParentDeathSignal(options.parentDeathSignal);
    if (error) fatal(`cannot set the parent death signal: ${getSystemErrorMessage(-error)}`);
  }

  let child = 0;
  let phase: Phase = { name: 'running' };
  let tookForeground = false;

  function forward(signo: number): void {
    send(signo);
    // libuv passes signals to JavaScript through a pipe and drops them when
    // the pipe is full, SIGCHLD included; reaping on every signal means a
    // child exit is never lost in a storm of other signals. After the kill,
    // not before: it stays off the forwarding latency, and the child's pid
    // cannot have been reused (it is ours until reaped).
    reap();
  }

  function send(signo: number): void {
    if (phase.name !== 'running') {
      verbose(`${signalName(signo)} received after the command exited: not forwarded`);
      return;
    }
    const target = options.rewrite.get(signo) ?? signo;
    if (target === 0) {
      verbose(`${signalName(signo)} dropped (--rewrite)`);
      return;
    }
    const error = kill(options.processGroup ? -child : child, target);
    // The hot path ends here: the JavaScript runs interpreted (--jitless), so
    // log text is only built when it is going to be written.
    if (error === 0 && !options.verbose) return;
    const to = options.processGroup ? `process group ${child}` : `pid ${child}`;
    if (error === 0) verbose(`forwarded ${signalName(target)} to ${to}`, target === signo ? {} : { received: signalName(signo) });
    else if (error !== ESRCH) log('warn', `cannot forward ${signalName(target)} to ${to}: ${getSystemErrorMessage(-error)}`);
  }

  function reap(): void {
    let noChildren = false;
    for (;;) {
      const result = reapOne();
      if (result.kind === 'none') break;
      if (result.kind === 'no-children') { noChildren = true; break; }
      const end = decodeWaitStatus(result.status);
      if (result.pid === child && phase.name === 'running') childExited(end);
      else if (options.warnOnReap) log('warn', `reaped pid ${result.pid}`, describe(end));
    }
    if (noChildren && phase.name !== 'running') finish(phase.end);
  }

  function childExited(end: ChildEnd): void {
    verbose(`command exited`, { pid: child, ...describe(end) });
    // We gave the terminal to the child's group; take it back, so that
    // whatever pause or its parent does next is not in the background.
    if (tookForeground) reclaimTerminalForeground(STDIN);
    if (options.gracePeriodMs === 0) {
      startKilling(end);
      return;
    }
    phase = { name: 'terminating', end };
    // A stopped process acts on SIGTERM only once continued.
    signalTheRest(SIGTERM, SIGCONT);
    setTimeout(() => {
      if (phase.name === 'terminating') startKilling(end);
    }, options.gracePeriodMs).unref();
  }

  /** SIGKILL to the rest, again every KILL_SWEEP_MS for what was forked since, until none is left. */
  function startKilling(end: ChildEnd): void {
    phase = { name: 'killing', end };
    signalTheRest(SIGKILL);
    setInterval(() => { signalTheRest(SIGKILL); reap(); }, KILL_SWEEP_MS).unref();
  }

  /**
   * Signals every process left after the child: as PID 1, everyone else in
   * the namespace (kill(-1) spares only the caller); otherwise only our own
   * descendants, found in /proc, since kill(-1) would reach every process of
   * the host that we may signal.
   */
  function signalTheRest(...signals: number[]): void {
    const targets = isPid1 ? [-1] : descendantsOf(process.pid);
    if (targets.length === 0) return;
    verbose(`sending ${signals.map(signalName).join(' and ')} to the processes that are left`, { count: isPid1 ? 'all' : targets.length });
    for (const pid of targets) for (const signo of signals) kill(pid, signo);
  }

  function finish(end: ChildEnd): never {
    const raw = exitCodeFor(end);
    const code = options.remapExit.has(raw) ? 0 : raw;
    verbose(`exiting`, { code, ...(code === raw ? {} : { remapped: raw }) });
    exitNow(code);
  }

  const handled: number[] = [];
  for (const signo of ALL_SIGNALS) {
    switch (initDisposition(signo)) {
      case 'forward':
        if (onSignal(signo, forward)) handled.push(signo);
        else ignoreSignal(signo);
        break;
      case 'reap':
        onSignal(signo, reap);
        handled.push(signo);
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
  // The executable runs with --disable-sigusr1 so that SIGUSR1 can never
  // start the inspector; that leaves SIGUSR1 blocked in every thread. Now that
  // a listener is in place, let the main thread take it: it is forwarded.
  unblockSignals([SIGUSR1]);
  const listenFds = Number(process.env['LISTEN_FDS'] ?? '0');
  const activation = Number.isInteger(listenFds) && listenFds > 0
    ? Array.from({ length: listenFds }, (_, i) => SD_LISTEN_FDS_START + i)
    : [];
  tookForeground = ownsTerminalForeground(STDIN);
  const spawned = spawn({
    argv: options.command,
    inheritFds: [...STDIO, ...activation].filter(isOpenDescriptor),
    // Nothing else of ours: not Node's descriptors, nor any other that was
    // open when pause started without being meant for the command.
    closeFrom: SD_LISTEN_FDS_START + activation.length,
    foregroundFd: tookForeground ? STDIN : null,
  });
  const file = options.command[0] ?? '';
  if (!spawned.ok) {
    const reason = getSystemErrorMessage(-spawned.errno);
    if (spawned.step !== 'exec') fatal(`cannot start ${file}: ${spawned.step}: ${reason}`);
    fatal(`${file}: ${reason}`, execFailureCode(spawned.errno));
  }
  child = spawned.pid;
  verbose(`started ${file}`, { pid: child, pgid: child, foreground: tookForeground });
  // (After the spawn, so that the child starts the sooner: this reads /proc.)
  // A handled signal runs libuv's C handler, which writes its number to a
  // pipe that the main thread's event loop reads. Real-time signals queue (up
  // to RLIMIT_SIGPENDING, ~100,000), and while any is pending the kernel
  // delivers the next one to a thread the moment it returns from the last:
  // a main thread that takes them runs handlers only, never the loop, and a
  // flood of them would hide the child's exit until the queue drained (tens of
  // seconds, measured). So the main thread blocks them when another of Node's
  // threads takes them (SIGUSR1 excepted: Node blocks it in every other thread).
  const offMain = handled.filter((signo) => signo !== SIGUSR1);
  if (otherThreadsAccepting(offMain) > 0) blockSignals(offMain);

  keepAlive();
  // A zombie inherited from whoever exec'd pause announces itself with no
  // SIGCHLD of ours: collect it now.
  reap();
}

/** As shells and tini: 127 when there is nothing to run, 126 when it cannot be run. */
function execFailureCode(errno: number): number {
  if (errno === ENOENT) return EXIT_NOT_FOUND;
  if ([EACCES, EPERM, ENOEXEC, EISDIR, ENOTDIR].includes(errno)) return EXIT_CANNOT_EXECUTE;
  return EXIT_INTERNAL;
}

function describe(end: ChildEnd): Fields {
  return end.kind === 'exited'
    ? { exit: end.code }
    : { signal: signalName(end.signo), ...(end.coreDumped ? { core: true } : {}) };
}
