// Signals delivered to JavaScript, by number, real-time ones included.
//
// Node's `process.on('SIGxxx')` knows only the named signals 1..31. Both it and
// this module sit on libuv's signal handles: a C handler that writes the
// signal number to a pipe, read back by the event loop. Real-time signals
// (SIGRTMIN..SIGRTMAX) have no names, so they go through Node's internal
// `signal_wrap` binding, the very handle `process.on` uses. Reaching it needs
// `--expose-internals`, which the executable bakes into its execArgv; a test
// proves it still works on the pinned Node. Without it (a bare `node` running
// the sources) real-time signals are ignored instead, and the caller says so.
import { createRequire } from 'node:module';
import { SIGRTMIN, standardSignalName } from './signals.ts';

export type SignalListener = (signo: number) => void;

interface SignalHandle {
  onsignal: (signo: number) => void;
  start(signo: number): number;
  unref(): void;
}
interface SignalWrapBinding {
  Signal: new () => SignalHandle;
}
interface TestBinding {
  internalBinding(name: 'signal_wrap'): SignalWrapBinding;
}

function loadSignalWrap(): SignalWrapBinding | null {
  if (!process.execArgv.includes('--expose-internals')) return null;
  try {
    // The executable's own `require` (a CommonJS bundle) loads it directly;
    // the sources, run as ES modules, need one made for them.
    const load = (typeof require === 'function' ? require : createRequire(process.execPath)) as (id: string) => TestBinding;
    return load('internal/test/binding').internalBinding('signal_wrap');
  } catch {
    return null;
  }
}

let signalWrap: SignalWrapBinding | null | undefined;

/** True when real-time signals can be listened to. */
export function canListenToRealtime(): boolean {
  signalWrap ??= loadSignalWrap();
  return signalWrap !== null;
}

/**
 * Calls `listener` for each delivery of `signo`. Like `process.on`, the
 * listener does not keep the event loop alive. Returns false when the signal
 * cannot be listened to (a real-time one without the internal binding).
 */
export function onSignal(signo: number, listener: SignalListener): boolean {
  const name = standardSignalName(signo);
  if (name !== undefined) {
    process.on(name, () => listener(signo));
    return true;
  }
  if (signo < SIGRTMIN || !canListenToRealtime() || !signalWrap) return false;
  const handle = new signalWrap.Signal();
  handle.onsignal = listener;
  const error = handle.start(signo);
  if (error !== 0) return false;
  handle.unref();
  return true;
}
