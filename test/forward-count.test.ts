// src/forward-count.ts: what the listener knows of the native code's sends,
// driven with a block of its own. The code's side is played by writing the
// counters as the code does (Atomics on the same words).
import { describe, expect, it } from 'vitest';
import { BLOCK, WORD } from '../src/forward-block.ts';
import { nativeForwarding } from '../src/forward-count.ts';

const SIGTERM = 15;
const SIGUSR1 = 10;

function block() {
  const words = new Int32Array(new SharedArrayBuffer(BLOCK.BYTES));
  /** The code sends `signo` once: its counter goes up. */
  const send = (signo: number) => Atomics.add(words, WORD.FORWARDED + signo, 1);
  return { words, send };
}

describe('what the listener hears', () => {
  it('a signal it is not told of: the listener runs only for the ones the code did not send', () => {
    const { words, send } = block();
    const native = nativeForwarding(words, new Set([SIGTERM]));
    send(SIGUSR1);
    expect(native.tookOne(SIGUSR1)).toBe('not-sent');
  });

  it('a told signal: one "sent" per send, then "not-sent" for one the code did not send', () => {
    const { words, send } = block();
    const native = nativeForwarding(words, new Set([SIGTERM]));
    send(SIGTERM);
    send(SIGTERM);
    expect([native.tookOne(SIGTERM), native.tookOne(SIGTERM), native.tookOne(SIGTERM)]).toEqual(['sent', 'sent', 'not-sent']);
  });

  it('catchUp hands over the sends not yet heard of, once, and their later word from libuv is "told"', () => {
    const { words, send } = block();
    const native = nativeForwarding(words, new Set([SIGTERM, SIGUSR1]));
    send(SIGTERM);
    send(SIGTERM);
    send(SIGUSR1);
    expect(native.tookOne(SIGTERM)).toBe('sent');
    expect(native.catchUp().sort((a, b) => a - b)).toEqual([SIGUSR1, SIGTERM]);
    expect(native.catchUp()).toEqual([]);
    expect([native.tookOne(SIGTERM), native.tookOne(SIGUSR1)]).toEqual(['told', 'told']);
    // One the code did not send (a failed kill, or after the disarm): the listener's own.
    expect(native.tookOne(SIGTERM)).toBe('not-sent');
  });

  it('disarm clears the target, for good (no send in flight here: the wait for one is not exercised)', () => {
    const { words } = block();
    Atomics.store(words, WORD.TARGET, 1234);
    const native = nativeForwarding(words, new Set());
    expect(native.armed).toBe(true);
    native.disarm();
    expect(Atomics.load(words, WORD.TARGET)).toBe(0);
    expect(native.armed).toBe(false);
  });
});
