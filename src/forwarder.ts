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
import { BLOCK, CODE, HEADER_HANDLER, HEADER_MAGIC, HEADER_SLOT, HEADER_THREAD, MAGIC, TELL } from './forward-block.ts';
import {
  addressOf, currentSignalAction, entryPoint, handlerOf, readMemory, setSignalAction, sigset, startThread, withSigInfoHandler, writeMemory,
  type Errno,
} from './libc.ts';
import { nativeForwarding, type NativeForwarding } from './forward-count.ts';

const INT32 = 4;
const TARGET = BLOCK.TARGET / INT32;
/** The kernel's sigset_t: 64 signals. */
const KERNEL_SIGSET_BYTES = 8;
/** Held for the life of the process: the code reads the block until _exit. */
const blocks: SharedArrayBuffer[] = [];

export type ForwardingSetUp =
  | { kind: 'native'; forwarding: NativeForwarding; signals: number; threadError: Errno }
  | { kind: 'listener'; why: string };

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
 * Arms the code for `target` (a pid, or -pgid under -g), puts its handler in
 * place of libuv's for each of `signals`, whose listeners must already be
 * installed (onSignal: libuv's handler is how the listener hears of a signal),
 * and starts the thread. `sendAs`: what each signal is sent as (--rewrite), 0
 * for none; `tell`: whether the listener hears of it once sent. The calling
 * (main) thread must block every one of `signals`: the thread starts with its
 * mask.
 */
export function startNativeForwarding(
  target: number, signals: readonly number[], sendAs: (signo: number) => number, tell: (signo: number) => boolean,
): ForwardingSetUp {
  const code = locate();
  if (!code) return { kind: 'listener', why: 'this executable has no native forwarding code' };
  // A SharedArrayBuffer's memory never moves.
  const shared = new SharedArrayBuffer(BLOCK.BYTES);
  blocks.push(shared);
  const bytes = Buffer.from(shared);
  const words = new Int32Array(shared);
  const told = new Set(signals.filter(tell));
  for (const signo of signals) bytes[BLOCK.SEND_AS + signo] = sendAs(signo) | (told.has(signo) ? TELL : 0);
  // The kernel's sigset is glibc's first 64 bits: the same bit per signal.
  const waitSet = sigset(signals, bytes.subarray(BLOCK.WAIT_SET, BLOCK.WAIT_SET + KERNEL_SIGSET_BYTES));
  Atomics.store(words, TARGET, target);
  const address = Buffer.alloc(8);
  address.writeBigUInt64LE(addressOf(bytes));
  writeMemory(code.slot, address);
  const replaced = replaceHandlers(code.handler, signals, bytes);
  if (replaced === 0) return { kind: 'listener', why: 'no signal handler could be replaced' };
  const threadError = startThread(code.thread);
  // Only with the thread there: a thread of Node's that runs the handler
  // then stops taking these signals, and the thread takes them all. Without
  // it, they go on landing on Node's threads.
  if (threadError === 0) waitSet.copy(bytes, BLOCK.BLOCK_SET);
  return { kind: 'native', signals: replaced, threadError, forwarding: nativeForwarding(words, told) };
}

/**
 * Puts the code's handler in place of libuv's for `signals`; how many it
 * replaced. Each of them has a libuv signal handle (onSignal), and libuv
 * installs one handler, with the same flags and mask, for every signal: one
 * sigaction to read it, one per signal to replace it.
 */
function replaceHandlers(handler: bigint, signals: readonly number[], bytes: Buffer): number {
  const first = signals.length ? currentSignalAction(signals[0]!) : null;
  const chain = first ? handlerOf(first) : 0n;
  if (!first || chain <= 1n) return 0; // SIG_DFL, SIG_IGN: not libuv's
  // Before any signal can reach the code: the handler it passes signals on to.
  bytes.writeBigUInt64LE(chain, BLOCK.CHAIN);
  const action = withSigInfoHandler(first, handler);
  return signals.filter((signo) => setSignalAction(signo, action) === 0).length;
}
