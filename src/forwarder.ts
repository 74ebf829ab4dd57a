// Init mode's forwarding, in native code: the executable's code
// (scripts/native-forwarder.ts) sends each forwarded signal to the command as
// the kernel delivers it, on a thread of pause's own that waits for them as
// tini does, and the listener (src/supervisor.ts) hears only of what it must
// (--verbose, SIGTERM) or of what the code did not send. This module finds
// the code, fills the block it reads (src/forward-block.ts), puts its handler
// in place of libuv's, and starts the thread; src/forward-count.ts answers
// the listener's one question: did the code send this one?
//
// Without the code (the sources under a plain node) there is no native
// forwarding: the listener sends every signal, as it always has.
import { BLOCK, CODE, HEADER_HANDLER, HEADER_MAGIC, HEADER_SLOT, HEADER_THREAD, MAGIC, PRIME_CODE, TELL, WORD } from './forward-block.ts';
import {
  addressOf, currentSignalAction, entryPoint, handlerOf, queueToOwnThread, readMemory, resolveThreadCalls, setSignalAction, sigset,
  startThread, withSigInfoHandler, writeMemory, type Errno,
} from './libc.ts';
import { nativeForwarding, type NativeForwarding } from './forward-count.ts';
import { SIGWINCH } from './signals.ts';

/** The kernel's sigset_t: 64 signals. */
const KERNEL_SIGSET_BYTES = 8;
/** Held for the life of the process: the code reads the block until _exit. */
const blocks: SharedArrayBuffer[] = [];

/** What arming did: how many signals the code takes, the thread's error (0: it runs), how many of Node's threads were primed. */
export interface ArmedForwarding { readonly forwarding: NativeForwarding; readonly signals: number; readonly threadError: Errno; readonly primed: number }

/** Why the listener sends every signal. */
export interface NoNativeForwarding { readonly kind: 'listener'; readonly why: string }

/** The code in place, not yet sending: what armNativeForwarding needs. */
export interface PreparedForwarding {
  readonly kind: 'prepared';
  readonly thread: bigint;
  /** The block, over its SharedArrayBuffer. */
  readonly bytes: Buffer;
  readonly told: ReadonlySet<number>;
  readonly replaced: readonly number[];
  readonly nodeThreads: readonly number[];
}

interface Code { readonly slot: bigint; readonly thread: bigint; readonly handler: bigint }

/** Where the executable's code is, if it has the code these sources expect. */
function locate(): Code | null {
  const entry = entryPoint();
  if (entry === 0n) return null;
  const header = readMemory(entry + BigInt(HEADER_MAGIC), CODE - HEADER_MAGIC);
  if (!header.subarray(0, MAGIC.length).equals(MAGIC)) return null;
  const at = (offset: number) => entry + header.readBigInt64LE(offset - HEADER_MAGIC);
  return { slot: at(HEADER_SLOT), thread: at(HEADER_THREAD), handler: at(HEADER_HANDLER) };
}

/**
 * Before the spawn, all that does not need the command's pid: fills the
 * block with no target (so the code passes every signal on to libuv's
 * handler, as if it were not there), puts the code's handler in place of
 * libuv's for each of `signals`, whose listeners must already be installed
 * (onSignal: libuv's handler is how the listener hears of a signal), and
 * resolves what arming calls. Arming is then a store, a thread and a system
 * call per thread of Node's, so the code sends signals within a fraction of
 * a millisecond of the spawn. `sendAs`: what each signal is sent as
 * (--rewrite), 0 for none; `tell`: whether the listener hears of it once
 * sent. `nodeThreads`: the tids of Node's other threads (none without a
 * /proc of pause's own), each made to block `signals` once the thread runs.
 */
export function prepareNativeForwarding(
  signals: readonly number[], sendAs: (signo: number) => number, tell: (signo: number) => boolean, nodeThreads: readonly number[],
): PreparedForwarding | NoNativeForwarding {
  const code = locate();
  if (!code) return { kind: 'listener', why: 'this executable has no native forwarding code' };
  // A SharedArrayBuffer's memory never moves.
  const shared = new SharedArrayBuffer(BLOCK.BYTES);
  blocks.push(shared);
  const bytes = Buffer.from(shared);
  const told = new Set(signals.filter(tell));
  for (const signo of signals) bytes[BLOCK.SEND_AS + signo] = sendAs(signo) | (told.has(signo) ? TELL : 0);
  // The kernel's sigset is glibc's first 64 bits: the same bit per signal.
  sigset(signals, bytes.subarray(BLOCK.WAIT_SET, BLOCK.WAIT_SET + KERNEL_SIGSET_BYTES));
  const address = Buffer.alloc(8);
  address.writeBigUInt64LE(addressOf(bytes));
  writeMemory(code.slot, address);
  const replaced = replaceHandlers(code.handler, signals, bytes);
  if (replaced.length === 0) return { kind: 'listener', why: 'no signal handler could be replaced' };
  resolveThreadCalls();
  return { kind: 'prepared', thread: code.thread, bytes, told, replaced, nodeThreads };
}

/**
 * After the spawn: the code sends to `target` (a pid, or -pgid under -g) from
 * now on, and the thread starts. The calling (main) thread must block every
 * forwarded signal: the thread starts with its mask.
 */
export function armNativeForwarding(prepared: PreparedForwarding, target: number): ArmedForwarding {
  const { bytes, told, replaced } = prepared;
  const words = new Int32Array(bytes.buffer);
  Atomics.store(words, WORD.TARGET, target);
  const forwarding = nativeForwarding(words, told);
  const threadError = startThread(prepared.thread);
  // Only with the thread there: a thread of Node's that runs the handler
  // then stops taking these signals, and the thread takes them all. Without
  // it, they go on landing on Node's threads.
  if (threadError !== 0) return { signals: replaced.length, threadError, primed: 0, forwarding };
  bytes.copy(bytes, BLOCK.BLOCK_SET, BLOCK.WAIT_SET, BLOCK.WAIT_SET + KERNEL_SIGSET_BYTES);
  return { signals: replaced.length, threadError, primed: prime(prepared.nodeThreads, replaced), forwarding };
}

/**
 * Has each of `tids` (Node's threads, never the thread: it would take the
 * signal in rt_sigtimedwait and send it) run the handler once, so that it
 * blocks the forwarded signals before any is sent to pause: one signal each,
 * queued to that thread alone with si_code PRIME_CODE, for which the handler
 * only sets the mask. Otherwise each would take one forwarded signal first,
 * and its wake-up can move the child to another core for good (on two cores,
 * forwarding's latency then doubles: docs/benchmarks.md). SIGWINCH, whose
 * default action is to be ignored, were a kernel or an emulator ever to lose
 * the code, and which Node's threads leave open (they block SIGUSR1); none if
 * its handler could not be replaced. How many were sent one.
 */
function prime(tids: readonly number[], replaced: readonly number[]): number {
  if (!replaced.includes(SIGWINCH)) return 0;
  return tids.filter((tid) => queueToOwnThread(tid, SIGWINCH, PRIME_CODE) === 0).length;
}

/**
 * Puts the code's handler in place of libuv's for `signals`; the ones it
 * replaced. Each of them has a libuv signal handle (onSignal), and libuv
 * installs one handler, with the same flags and mask, for every signal: one
 * sigaction to read it, one per signal to replace it.
 */
function replaceHandlers(handler: bigint, signals: readonly number[], bytes: Buffer): number[] {
  const first = signals.length ? currentSignalAction(signals[0]!) : null;
  const chain = first ? handlerOf(first) : 0n;
  if (!first || chain <= 1n) return []; // SIG_DFL, SIG_IGN: not libuv's
  // Before any signal can reach the code: the handler it passes signals on to.
  bytes.writeBigUInt64LE(chain, BLOCK.CHAIN);
  const action = withSigInfoHandler(first, handler);
  return signals.filter((signo) => setSignalAction(signo, action) === 0);
}
