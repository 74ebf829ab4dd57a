// Signals delivered to JavaScript, by number, real-time ones included.
//
// Node's `process.on('SIGxxx')` knows only the named signals 1..31. Both it and
// this module sit on libuv's signal handles: a C handler that writes the
// signal number to a pipe, read back by the event loop. This module takes the
// handle itself, Node's internal `signal_wrap` binding (src/internals.ts): it
// knows the real-time signals (SIGRTMIN..SIGRTMAX), which have no names, and
// serves the named ones the same way. Without the binding (a
// bare `node` running the sources) it falls back to process.on, and
// real-time signals are ignored instead; the caller says so.
import { internalBinding } from './internals.ts';
import { standardSignalName } from './signals.ts';

export type SignalListener = (signo: number) => void;

interface SignalHandle {
  onsignal: (signo: number) => void;
  start(signo: number): number;
  unref(): void;
}
interface SignalWrapBinding {
  Signal: new () => SignalHandle;
}
let signalWrap: SignalWrapBinding | null | undefined;
const listening: SignalHandle[] = [];

/** The binding has what onSignal uses: a constructor whose handles start and unref. */
function fitsSignalWrap(binding: SignalWrapBinding): boolean {
  const handle = (binding.Signal as { prototype?: Partial<SignalHandle> } | undefined)?.prototype;
  return typeof binding.Signal === 'function' && typeof handle?.start === 'function' && typeof handle.unref === 'function';
}

/** True when real-time signals can be listened to. */
export function canListenToRealtime(): boolean {
  signalWrap ??= internalBinding<SignalWrapBinding>('signal_wrap', fitsSignalWrap);
  return signalWrap !== null;
}

/**
 * Calls `listener` for each delivery of `signo`. Like `process.on`, the
 * listener does not keep the event loop alive. Returns false when the signal
 * cannot be listened to (a real-time one without the internal binding).
 */
export function onSignal(signo: number, listener: SignalListener): boolean {
  if (canListenToRealtime() && signalWrap) {
    // The handle itself, for every signal: one path for named and real-time
    // signals alike (against process.on's, no difference was measured).
    const handle = new signalWrap.Signal();
    handle.onsignal = listener;
    if (handle.start(signo) !== 0) return false;
    handle.unref();
    listening.push(handle); // as process.on keeps its own
    return true;
  }
  const name = standardSignalName(signo);
  if (name === undefined) return false;
  process.on(name, () => listener(signo));
  return true;
}
