// What the executable's native forwarding code (scripts/native-forwarder.ts)
// and src/forwarder.ts agree on: where the build puts the code, and the block
// of memory through which the two talk. Pure constants, shared by the build
// and the executable.
//
// In the executable, right after the entry stub (scripts/entry-stub.ts), at
// fixed offsets from the ELF entry point (getauxval(AT_ENTRY)):
//
//   entry + HEADER_MAGIC     8 bytes, MAGIC: the code is there
//   entry + HEADER_SLOT      int64: where the block's address goes, relative to
//                            the entry (a word after the writable segment)
//   entry + HEADER_THREAD    int64: the thread's start routine, relative to the entry
//   entry + HEADER_HANDLER   int64: the signal handler, relative to the entry
//   entry + CODE             the code

/** How much room the entry stub has, aligned for code. */
export const STUB_ROOM = 32;
export const HEADER_MAGIC = STUB_ROOM;
export const HEADER_SLOT = STUB_ROOM + 8;
export const HEADER_THREAD = STUB_ROOM + 16;
export const HEADER_HANDLER = STUB_ROOM + 24;
export const CODE = STUB_ROOM + 32;
/** Changes whenever the code or the block changes: an executable and sources of two versions never pair. */
export const MAGIC = Buffer.from('pausefw3', 'latin1');

/**
 * The block, in bytes. The JavaScript reads and writes it with Atomics, the
 * code with locked (x86-64) or exclusive (AArch64) instructions.
 */
export const BLOCK = {
  /** int32: whom the code signals (a pid, or -pgid under -g); 0: no one, leave the signal to the listener. */
  TARGET: 0,
  /** int32: bodies between their first look at TARGET and their kill's end. */
  IN_FLIGHT: 4,
  /** uint64: the handler that was there before (libuv's): the listener hears of a signal through it. */
  CHAIN: 8,
  /** uint64, a kernel sigset: what the thread waits for. */
  WAIT_SET: 16,
  /** uint64, a kernel sigset: what a thread that runs the handler blocks from then on; 0 while there is no thread. */
  BLOCK_SET: 24,
  /** uint8 per signal number 0..64: the signal to send for it (--rewrite), 0 to send none; and TELL. */
  SEND_AS: 32,
  /** int32 per signal number 0..64: how many times the code has sent it. */
  FORWARDED: 112,
  BYTES: 112 + 4 * 65,
} as const;

/** The block's int32 fields as indices into an Int32Array over it (FORWARDED: the first of 65). */
export const WORD = { TARGET: BLOCK.TARGET / 4, IN_FLIGHT: BLOCK.IN_FLIGHT / 4, FORWARDED: BLOCK.FORWARDED / 4 } as const;

/** In a SEND_AS byte: the signal to send. */
export const SEND_AS_SIGNAL = 0x7f;
/** In a SEND_AS byte: once it is sent, call libuv's handler too, so that the listener hears of it. */
export const TELL = 0x80;

/**
 * The si_code of the one signal pause queues to each of Node's threads at
 * start-up (rt_tgsigqueueinfo), so that it blocks the forwarded signals
 * before any arrives: the handler sees this code, lets the kernel install the
 * mask, and sends nothing. Negative, as the kernel requires of a code queued
 * to another thread; and no libc or kernel path uses it (theirs: SI_QUEUE -1
 * to SI_DETHREAD -7, SI_ASYNCNL -60). Another process could queue it only by
 * writing the siginfo itself, and would only get its signal dropped, which
 * not sending it does as well. Within 12 bits: an AArch64 compare's immediate.
 */
export const PRIME_CODE = -0x600;
