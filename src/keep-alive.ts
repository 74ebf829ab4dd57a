// Something must keep Node's event loop alive: signal listeners do not. A
// referenced timer with the longest delay Node allows (2^31 - 1 ms, about 24.8
// days) does, and wakes the process once in that time instead of never
// sleeping: an idle pause makes no wake-ups.
const LONGEST_TIMER_MS = 2 ** 31 - 1;

export function keepAlive(): void {
  setInterval(() => {}, LONGEST_TIMER_MS);
}
