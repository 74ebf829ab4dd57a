// pause's native forwarding: init mode's signals sent on without the event loop.
//
// Why: a signal that reaches JavaScript goes through libuv: a C handler that
// takes a lock and writes the signal's number to a pipe, then the main
// thread's loop back from epoll to read it, then the listener and its kill.
// tini's path is sigtimedwait's return, then kill. The difference is libuv's
// and the loop's (docs/benchmarks.md, "Where forwarding's time goes"). This
// code takes tini's path. Two entry points, one body:
//
// - The thread (pause's own, started by src/forwarder.ts, its mask that of
//   the main thread: every handled signal blocked) loops on
//   rt_sigtimedwait(WAIT_SET) and calls the body for each signal it takes:
//   tini's loop.
// - The handler (SA_SIGINFO, in place of libuv's for every forwarded
//   signal) runs the body on whichever thread the kernel delivers to. Node's
//   own threads leave the signals open, and only a thread can change its own
//   mask: so the handler, running on one of them, adds BLOCK_SET to the mask
//   the kernel restores when it returns (ucontext's uc_sigmask). After its
//   first signal, each of Node's threads takes no more, and from then on the
//   thread takes them all. BLOCK_SET stays empty if there is no thread (a
//   task limit): then the handler goes on taking them where they land.
//   That first signal is pause's own: once the thread runs, src/forwarder.ts
//   queues one to each of Node's threads with si_code PRIME_CODE, and for
//   that code the handler returns as soon as the mask is set. So no signal
//   sent to pause wakes a thread of Node's (docs/benchmarks.md: on two cores,
//   one such wake-up can move the child away from the thread for good).
//
// The body, for signal `sig` (src/forward-block.ts has the block's layout):
//
//   if block.TARGET != 0:
//     block.IN_FLIGHT += 1           (atomic, a full barrier)
//     target = block.TARGET          (again, after the barrier: see below)
//     as = block.SEND_AS[sig] & 0x7f
//     if target != 0 and as != 0 and kill(target, as) == 0:
//       block.FORWARDED[sig] += 1    (atomic)
//       block.IN_FLIGHT -= 1         (atomic)
//       if !(block.SEND_AS[sig] & TELL): return
//     else: block.IN_FLIGHT -= 1     (atomic)
//   block.CHAIN(sig)                 (libuv's handler: the listener hears of it)
//
// A signal the body sent does not wake the main thread, unless the listener
// asked to hear of it (TELL: --verbose, and SIGTERM, whose time starts the
// grace period): on two cores, that wake-up takes the core the child would
// run on next. Any signal the body did not send goes on to libuv's handler
// and the listener sends it, as before there was native code: one that came
// before the command started, one --rewrite drops, one whose kill failed (the
// listener's own kill then fails the same way and says so). For a TELL
// signal, the listener counts FORWARDED to know whether the body sent it.
// libuv's handler may be called from a thread's ordinary code as well as from
// a signal handler: it saves errno and takes its lock (a pipe) itself.
//
// IN_FLIGHT is what makes clearing TARGET final: the JavaScript clears it (a
// sequentially consistent store), then waits for IN_FLIGHT to read 0, before
// it reaps the command. A body either counted itself in before that store, and
// is waited for, or reads TARGET 0 after it and sends nothing. So no kill ever
// reaches a pid that was reaped and reused.
//
// Raw system calls, no libc: nothing that is not async-signal-safe, and errno
// untouched. The handler uses only registers the C calling convention lets a
// function clobber, and no stack; the kernel restores every register when it
// returns. Written here byte by byte, each instruction beside its encoding
// (checked with GNU as and llvm-mc); test/entry-stub.test.ts holds the bytes.
import { BLOCK, PRIME_CODE, SEND_AS_SIGNAL, TELL } from '../src/forward-block.ts';
import { SIGINFO_CODE } from '../src/siginfo.ts';

/** <asm/unistd_64.h> and <asm-generic/unistd.h>. */
const SYS_X86_64 = { rt_sigtimedwait: 128, kill: 62 } as const;
const SYS_AARCH64 = { rt_sigtimedwait: 137, kill: 129 } as const;
/**
 * Where the kernel's ucontext keeps the mask it restores: x86-64's struct
 * ucontext has uc_flags, uc_link, uc_stack (24 bytes) and the 256-byte
 * sigcontext before it; arm64's has it right after uc_stack.
 */
const UC_SIGMASK_X86_64 = 0x128;
const UC_SIGMASK_AARCH64 = 40;

// The encodings below hold these offsets as immediates.
if (BLOCK.IN_FLIGHT !== 4 || BLOCK.CHAIN !== 8 || BLOCK.WAIT_SET !== 16 || BLOCK.BLOCK_SET !== 24 || BLOCK.SEND_AS !== 32
  || BLOCK.FORWARDED !== 112 || SEND_AS_SIGNAL !== 0x7f || TELL !== 0x80 || PRIME_CODE >= 0 || PRIME_CODE < -0xfff) {
  throw new Error('src/forward-block.ts moved a field: re-encode scripts/native-forwarder.ts');
}

/** An int32's four bytes, little-endian. */
const int32 = (value: number): number[] => [value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff];

export interface NativeCode {
  readonly code: Buffer;
  /** Offsets in `code` of the thread's start routine and of the signal handler. */
  readonly thread: number;
  readonly handler: number;
}

/** x86-64: the code at `at`; `slot` holds the block's address. */
export function x86_64(at: bigint, slot: bigint): NativeCode {
  const code = Buffer.from([
    // thread:
    0xf3, 0x0f, 0x1e, 0xfa, //                 endbr64
    0x53, //                                   push rbx                   ; and the stack is aligned for calls
    0x48, 0x8b, 0x1d, 0, 0, 0, 0, //           mov rbx, [rip + slot]      ; the block
    // again:
    0x48, 0x8d, 0x7b, BLOCK.WAIT_SET, //       lea rdi, [rbx + WAIT_SET]
    0x31, 0xf6, //                             xor esi, esi               ; no siginfo
    0x31, 0xd2, //                             xor edx, edx               ; no timeout
    0x41, 0xba, 8, 0, 0, 0, //                 mov r10d, 8                ; the kernel's sigset size
    0xb8, SYS_X86_64.rt_sigtimedwait, 0, 0, 0, // mov eax, SYS_rt_sigtimedwait
    0x0f, 0x05, //                             syscall
    0x85, 0xc0, //                             test eax, eax
    0x7e, 0xe7, //                             jle again                  ; -EINTR
    0x89, 0xc7, //                             mov edi, eax               ; sig; rdx is 0: no ucontext
    0xe8, 0x04, 0, 0, 0, //                    call handler
    0xeb, 0xde, //                             jmp again
    0x66, 0x90, //                             (padding)
    // handler:                                (sig in edi, ucontext in rdx)
    0xf3, 0x0f, 0x1e, 0xfa, //                 endbr64
    0x49, 0x89, 0xd0, //                       mov r8, rdx                ; ucontext
    0x48, 0x8b, 0x15, 0, 0, 0, 0, //           mov rdx, [rip + slot]      ; the block
    0x4d, 0x85, 0xc0, //                       test r8, r8
    0x74, 0x15, //                             jz body
    0x48, 0x8b, 0x42, BLOCK.BLOCK_SET, //      mov rax, [rdx + BLOCK_SET]
    0x49, 0x09, 0x80, UC_SIGMASK_X86_64 & 0xff, UC_SIGMASK_X86_64 >> 8, 0, 0, // or [r8 + uc_sigmask], rax
    0x81, 0x7e, SIGINFO_CODE, ...int32(PRIME_CODE), // cmp dword [rsi + si_code], PRIME_CODE
    0x75, 0x01, //                             jne body
    0xc3, //                                   ret                        ; pause's own: the mask was all it was for
    // body:
    0x41, 0x89, 0xf9, //                       mov r9d, edi               ; sig
    0x8b, 0x02, //                             mov eax, [rdx]             ; TARGET
    0x85, 0xc0, //                             test eax, eax
    0x74, 0x38, //                             jz chain
    0xf0, 0xff, 0x42, BLOCK.IN_FLIGHT, //      lock inc dword [rdx + IN_FLIGHT]
    0x8b, 0x3a, //                             mov edi, [rdx]             ; TARGET, again: kill's pid
    0x85, 0xff, //                             test edi, edi
    0x74, 0x2a, //                             jz done
    0x46, 0x0f, 0xb6, 0x54, 0x0a, BLOCK.SEND_AS, // movzx r10d, byte [rdx + r9 + SEND_AS]
    0x44, 0x89, 0xd6, //                       mov esi, r10d
    0x83, 0xe6, SEND_AS_SIGNAL, //             and esi, 0x7f              ; kill's signal
    0x74, 0x1c, //                             jz done
    0xb8, SYS_X86_64.kill, 0, 0, 0, //         mov eax, SYS_kill
    0x0f, 0x05, //                             syscall                    ; rax: 0 or -errno; rdx, r9, r10 kept
    0x85, 0xc0, //                             test eax, eax
    0x75, 0x11, //                             jnz done
    0xf0, 0x42, 0xff, 0x44, 0x8a, BLOCK.FORWARDED, // lock inc dword [rdx + r9*4 + FORWARDED]
    0xf0, 0xff, 0x4a, BLOCK.IN_FLIGHT, //      lock dec dword [rdx + IN_FLIGHT]
    0x41, 0xf6, 0xc2, TELL, //                 test r10b, TELL
    0x75, 0x05, //                             jnz chain
    0xc3, //                                   ret                        ; sent, and no one to tell
    // done:
    0xf0, 0xff, 0x4a, BLOCK.IN_FLIGHT, //      lock dec dword [rdx + IN_FLIGHT]
    // chain:
    0x44, 0x89, 0xcf, //                       mov edi, r9d               ; sig, for libuv's handler
    0x48, 0x8b, 0x42, BLOCK.CHAIN, //          mov rax, [rdx + CHAIN]
    0x48, 0x85, 0xc0, //                       test rax, rax
    0x74, 0x02, //                             jz out
    0xff, 0xe0, //                             jmp rax                    ; libuv's handler returns for us
    // out:
    0xc3, //                                   ret
  ]);
  // rip-relative: from the end of each mov.
  code.writeInt32LE(Number(slot - (at + 0x0cn)), 0x08);
  code.writeInt32LE(Number(slot - (at + 0x3en)), 0x3a);
  return { code, thread: 0, handler: 0x30 };
}

/** AArch64: the same, with exclusive loads and stores for the counters. */
export function aarch64(at: bigint, slot: bigint): NativeCode {
  /** adrp xN, slot; ldr xN, [xN, #:lo12:slot], the adrp at `from`. */
  const load = (from: bigint, n: number): number[] => {
    const pages = BigInt.asUintN(21, (slot >> 12n) - (from >> 12n));
    return [
      0x90000000 | n | (Number(pages & 3n) << 29) | (Number(pages >> 2n) << 5),
      0xf9400000 | n | (n << 5) | (Number((slot & 0xfffn) / 8n) << 10),
    ];
  };
  const words = [
    // thread:
    0xd503245f, //  bti c
    0xa9be7bfd, //  stp x29, x30, [sp, #-32]!
    0xf9000bf3, //  str x19, [sp, #16]
    0x910003fd, //  mov x29, sp
    ...load(at + 0x10n, 19), // adrp x19, slot; ldr x19, [x19, #:lo12:slot] ; the block
    // again:
    0x91004260, //  add x0, x19, #WAIT_SET
    0xd2800001, //  mov x1, #0                  ; no siginfo
    0xd2800002, //  mov x2, #0                  ; no timeout
    0xd2800103, //  mov x3, #8                  ; the kernel's sigset size
    0xd2800008 | (SYS_AARCH64.rt_sigtimedwait << 5), // mov x8, #SYS_rt_sigtimedwait
    0xd4000001, //  svc #0
    0x7100001f, //  cmp w0, #0
    0x54ffff2d, //  b.le again                  ; -EINTR
    0xd2800001, //  mov x1, #0
    0xd2800002, //  mov x2, #0                  ; no ucontext
    0x94000002, //  bl handler
    0x17fffff5, //  b again
    // handler:                                 (sig in w0, ucontext in x2)
    0xd503245f, //  bti c                       ; the kernel enters a handler as if by blr
    ...load(at + 0x4cn, 11), // adrp x11, slot; ldr x11, [x11, #:lo12:slot] ; the block
    0xb4000122, //  cbz x2, body
    0xf9400d63, //  ldr x3, [x11, #BLOCK_SET]
    0xf9400044 | ((UC_SIGMASK_AARCH64 / 8) << 10), // ldr x4, [x2, #uc_sigmask]
    0xaa030084, //  orr x4, x4, x3
    0xf9000044 | ((UC_SIGMASK_AARCH64 / 8) << 10), // str x4, [x2, #uc_sigmask]
    0xb9400025 | ((SIGINFO_CODE / 4) << 10), // ldr w5, [x1, #si_code]
    0x310000bf | (-PRIME_CODE << 10), // cmn w5, #-PRIME_CODE     ; w5 == PRIME_CODE
    0x54000041, //  b.ne body
    0xd65f03c0, //  ret                         ; pause's own: the mask was all it was for
    // body:
    0x2a0003e9, //  mov w9, w0                  ; sig
    0xb9400162, //  ldr w2, [x11]               ; TARGET
    0x34000402, //  cbz w2, chain
    0x9100116a, //  add x10, x11, #IN_FLIGHT
    // in:
    0x885ffd4c, //  ldaxr w12, [x10]
    0x1100058c, //  add w12, w12, #1
    0x880dfd4c, //  stlxr w13, w12, [x10]
    0x35ffffad, //  cbnz w13, in
    0xd5033bbf, //  dmb ish                     ; the count is seen before TARGET is read again
    0xb9400160, //  ldr w0, [x11]               ; TARGET, again: kill's pid
    0x34000280, //  cbz w0, done
    0x8b09016e, //  add x14, x11, x9
    0x394081cf, //  ldrb w15, [x14, #SEND_AS]
    0x120019e1, //  and w1, w15, #0x7f          ; kill's signal
    0x34000201, //  cbz w1, done
    0xd2800008 | (SYS_AARCH64.kill << 5), // mov x8, #SYS_kill
    0xd4000001, //  svc #0                      ; x0: 0 or -errno; the others kept
    0x350001a0, //  cbnz w0, done
    0x8b09096e, //  add x14, x11, x9, lsl #2
    0x9101c1ce, //  add x14, x14, #FORWARDED
    // count:
    0x885ffdcc, //  ldaxr w12, [x14]
    0x1100058c, //  add w12, w12, #1
    0x880dfdcc, //  stlxr w13, w12, [x14]
    0x35ffffad, //  cbnz w13, count
    // sent:
    0x885ffd4c, //  ldaxr w12, [x10]
    0x5100058c, //  sub w12, w12, #1
    0x880dfd4c, //  stlxr w13, w12, [x10]
    0x35ffffad, //  cbnz w13, sent
    0x373800cf, //  tbnz w15, #7, chain         ; TELL
    0xd65f03c0, //  ret                         ; sent, and no one to tell
    // done:
    0x885ffd4c, //  ldaxr w12, [x10]
    0x5100058c, //  sub w12, w12, #1
    0x880dfd4c, //  stlxr w13, w12, [x10]
    0x35ffffad, //  cbnz w13, done
    // chain:
    0x2a0903e0, //  mov w0, w9                  ; sig, for libuv's handler
    0xf9400570, //  ldr x16, [x11, #CHAIN]
    0xb4000050, //  cbz x16, out
    0xd61f0200, //  br x16                      ; x16: a landing pad's `bti c` accepts it; libuv's handler returns for us
    // out:
    0xd65f03c0, //  ret
  ];
  const code = Buffer.alloc(words.length * 4);
  words.forEach((word, i) => code.writeUInt32LE(word >>> 0, i * 4));
  return { code, thread: 0, handler: 0x48 };
}
