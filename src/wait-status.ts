// The `status` word of waitpid(2), decoded. Pure.
//
// Linux layout (glibc <bits/waitstatus.h>): low 7 bits are the terminating
// signal (0 for a normal exit, 0x7f for a stopped child); bits 8..15 are the
// exit code; bit 7 is the core-dump flag.

export type ChildEnd =
  | { readonly kind: 'exited'; readonly code: number }
  | { readonly kind: 'signaled'; readonly signo: number; readonly coreDumped: boolean };

export function decodeWaitStatus(status: number): ChildEnd {
  const signo = status & 0x7f;
  if (signo === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  return { kind: 'signaled', signo, coreDumped: (status & 0x80) !== 0 };
}

/** The shell's convention, which tini and dumb-init follow: 128+N for death by signal N. */
export function exitCodeFor(end: ChildEnd): number {
  return end.kind === 'exited' ? end.code : 128 + end.signo;
}
