// The kernel's siginfo_t, as pause reads and writes it and as the native
// handler reads it (<asm-generic/siginfo.h>; the same on x86-64 and arm64):
// si_signo, si_errno and si_code, then a union that holds pointers, so it
// starts 8-aligned, at 16; for kill and sigqueue, si_pid then si_uid.
/** The whole struct: 128 bytes (SI_MAX_SIZE). */
export const SIGINFO_BYTES = 128;
export const SIGINFO_SIGNO = 0;
export const SIGINFO_CODE = 8;
export const SIGINFO_PID = 16;
export const SIGINFO_UID = 20;
