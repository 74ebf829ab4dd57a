// Pause mode: hold the pod's namespaces, reap every orphan, stop on SIGINT or
// SIGTERM. Behaves as Kubernetes' build/pause/linux/pause.c, with one change
// in how it reaps (below).
import { fallbackLine } from './internals.ts';
import { log, writeStderr } from './log.ts';
import { ALL_SIGNALS, pauseDisposition, standardSignalName, STOP_DESCRIPTIONS } from './signals.ts';
import { onSignal } from './signal-events.ts';
import { keepAlive } from './keep-alive.ts';

/** What pause mode does without each of Node's internal bindings (src/internals.ts). */
const BINDING_FALLBACKS = [['ffi', 'libc is called through node:ffi'], ['signal_wrap', 'SIGINT and SIGTERM are taken through process.on']] as const;

export async function runPause(): Promise<void> {
  // First the two stop signals: until their handlers are in place a SIGTERM
  // is lost (Node's own start-up handler re-raises it with the default
  // action, which PID 1 does not get). They need no node:ffi, so they come
  // before the C library is loaded (≈0.35 ms: src/libc.ts binds its
  // functions as it loads); everything else waits for them.
  const loading = import('./libc.ts');
  const deaf: number[] = [];
  for (const signo of ALL_SIGNALS) {
    if (pauseDisposition(signo) !== 'stop') continue;
    const listening = onSignal(signo, () => {
      writeStderr(`Shutting down, got signal: ${STOP_DESCRIPTIONS[signo]}\n`);
      // Loaded by then in the executable (the bundle loads it in the
      // microtask after this function's first await); the sources load it
      // from a file, so a signal may come first.
      void loading.then((libc) => libc.exitNow(0));
    });
    if (!listening) deaf.push(signo);
  }
  const { ignoreSignal, nameMainThread, reapOne } = await loading;
  // ps, pgrep and busybox ps know the process by this name (src/libc.ts);
  // before the dispositions below, which the tests take for "ready".
  nameMainThread('pause');
  if (process.pid !== 1) writeStderr('Warning: pause should be the first process\n');
  for (const signo of deaf) log('warn', `cannot listen to ${standardSignalName(signo) ?? signo}: it will not stop pause`);
  for (const signo of ALL_SIGNALS) {
    // SIG_IGN, not a do-nothing handler: an ignored signal is discarded by
    // the kernel and never wakes the process. As PID 1 a signal without a
    // handler is dropped anyway; elsewhere this keeps SIGHUP, SIGUSR1, a
    // real-time signal, Ctrl-Z and the like from ending or stopping pause.
    //
    // For SIGCHLD it does more: with SIGCHLD ignored, the kernel releases
    // each exiting child itself and no zombie is ever made (POSIX.1-2001,
    // wait(2)). pause.c instead wakes up on every SIGCHLD to call waitpid;
    // in a storm of orphans that costs a context switch per orphan, this
    // costs nothing. It fits pause mode only: it loses exit statuses.
    if (pauseDisposition(signo) === 'ignore') ignoreSignal(signo);
  }
  for (const [name, consequence] of BINDING_FALLBACKS) {
    const line = fallbackLine(name, consequence);
    if (line) log('warn', line);
  }
  // SIG_IGN is not retroactive: a zombie that was already there when it was
  // set (a child re-parented to us during start-up) must still be collected.
  while (reapOne().kind === 'reaped');

  keepAlive();
}
