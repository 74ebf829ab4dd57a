// What the listener knows of the native code's sends (src/forwarder.ts):
// the block's counters (src/forward-block.ts) read and written with Atomics.
// Pure: no I/O, so test/forward-count.test.ts drives it with a block of its own.
import { WORD } from './forward-block.ts';
import { SIGRTMAX } from './signals.ts';

const { TARGET, IN_FLIGHT, FORWARDED } = WORD;

/**
 * What the listener hears of a signal: `sent`, the code sent it; `told`,
 * the code sent it and catchUp already said so; `not-sent`, the listener must
 * send it.
 */
export type Took = 'sent' | 'told' | 'not-sent';

export interface NativeForwarding {
  /** For the listener of `signo`, once per time libuv tells it. */
  tookOne(signo: number): Took;
  /**
   * The signals the code sent that the listener must hear of and has not yet,
   * once per send, now taken as heard: their own word from libuv may come
   * after the command's exit (its SIGCHLD can overtake them on the loop's pipe).
   */
  catchUp(): number[];
  /** True until disarm. */
  readonly armed: boolean;
  /**
   * Stops the code sending anything, and returns once no send is under way:
   * after this the target may be reaped and its pid reused, and nothing of
   * pause's will signal it.
   */
  disarm(): void;
}

/** The listener's side of the block `words`; `told`: the signals the code passes on once sent. */
export function nativeForwarding(words: Int32Array, told: ReadonlySet<number>): NativeForwarding {
  /** Sends of each signal the listener has heard of, from libuv or from catchUp. */
  const seen = new Int32Array(SIGRTMAX + 1);
  /** Sends catchUp reported whose word from libuv has not come yet. */
  const ahead = new Int32Array(SIGRTMAX + 1);
  let armed = true;
  return {
    get armed() {
      return armed;
    },
    tookOne(signo) {
      // Not told: the listener runs only for the ones the code did not send.
      if (!told.has(signo)) return 'not-sent';
      if (ahead[signo]! > 0) {
        ahead[signo]!--;
        return 'told';
      }
      // The code counts before it calls libuv's handler, which is what makes
      // the listener run: its own count is already there.
      if (Atomics.load(words, FORWARDED + signo) === seen[signo]) return 'not-sent';
      seen[signo] = (seen[signo]! + 1) | 0;
      return 'sent';
    },
    catchUp() {
      const sent: number[] = [];
      for (const signo of told) {
        const behind = (Atomics.load(words, FORWARDED + signo) - seen[signo]!) | 0;
        if (behind <= 0) continue;
        seen[signo] = (seen[signo]! + behind) | 0;
        ahead[signo] = ahead[signo]! + behind;
        for (let i = 0; i < behind; i++) sent.push(signo);
      }
      return sent;
    },
    disarm() {
      if (!armed) return;
      armed = false;
      Atomics.store(words, TARGET, 0);
      // A send that counted itself in before the store may still be about
      // to kill the target: wait it out. A kill takes microseconds; a thread
      // preempted in between, a scheduler tick at most.
      while (Atomics.load(words, IN_FLIGHT) !== 0);
    },
  };
}
