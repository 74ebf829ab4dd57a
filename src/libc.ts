// The C library, called directly through node:ffi. The only module that uses
// node:ffi: everything else asks for a named operation here, or binds the
// functions it alone needs with `lazy` and `optional` (src/libc-spawn.ts,
// src/kernel-environment.ts).
//
// No native addon: an addon would have to be extracted to a file before it
// could be loaded, and a pod sandbox has a read-only root and no writable /tmp.
// A library opened with a null path resolves symbols of the process itself,
// i.e. the glibc the executable was linked against.
import { internalBinding } from './internals.ts';
import { SIGINFO_BYTES, SIGINFO_CODE, SIGINFO_PID, SIGINFO_SIGNO, SIGINFO_UID } from './siginfo.ts';

// --- Constants, each with where it comes from (glibc 2.36 headers, Linux UAPI).
/** <sys/wait.h>: return at once if no child has changed state. */
export const WNOHANG = 1;
/** <bits/waitflags.h>: waitid reports exited children; with WNOWAIT, leaves them waitable (unreaped). */
const WEXITED = 4;
const WNOWAIT = 0x01000000;
/** <bits/types/idtype_t.h>: waitid's id is ignored, any child. */
const P_ALL = 0;
/** <asm/unistd_64.h> (x86-64), <asm-generic/unistd.h> (arm64): glibc has no wrapper for it. */
const SYS_RT_TGSIGQUEUEINFO = process.arch === 'arm64' ? 240n : 297n;
/** <asm-generic/errno-base.h> */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
const EINTR = 4;
/** fork/clone: the task limit (RLIMIT_NPROC, a pids cgroup, threads-max) is reached. */
export const EAGAIN = 11;
export const ENOEXEC = 8;
const ECHILD = 10;
export const EACCES = 13;
export const ENOTDIR = 20;
export const EISDIR = 21;
/** <linux/prctl.h>: deliver a signal to this process when its parent dies. */
const PR_SET_PDEATHSIG = 1;
/** <linux/prctl.h>: name the calling thread (its comm, at most 15 bytes and a NUL). */
const PR_SET_NAME = 15;
/** <linux/prctl.h>: become the reaper of orphaned descendants (Linux ≥ 3.4). */
const PR_SET_CHILD_SUBREAPER = 36;
/** <bits/sigaction.h> via <signal.h>: the `how` of pthread_sigmask. */
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
/** <bits/signum-generic.h>: sighandler_t SIG_IGN is ((__sighandler_t) 1). */
const SIG_IGN = 1n;
/** <bits/types/__sigset_t.h>: glibc's sigset_t is 1024 bits. */
export const SIGSET_BYTES = 128;
export const POINTER_BYTES = 8;

// --- Bindings.
//
// node:ffi is a layer of JavaScript (argument checks, wrappers) over Node's
// internal `ffi` binding. Interpreted (--jitless), loading that layer costs
// ~2.4 ms of start-up and each call through it ~2 µs more than the binding's
// own function, whose native code checks and converts the same argument types
// (Buffers, bigints and numbers here). So pause calls the binding when it can
// reach it (src/internals.ts) and node:ffi otherwise: the two take and return
// the same values.
export type CType = 'int32' | 'uint64' | 'pointer' | 'void';
/** What a `pointer` argument takes: a buffer's address, a raw address, or NULL. */
export type Pointer = Buffer | bigint | null;
/** What libc.ts takes from node:ffi or its binding (test/internals.test.ts holds the pinned Node to it). */
export interface Library {
  getFunction(name: string, signature: { arguments: CType[]; return: CType }): unknown;
  getSymbol(name: string): bigint;
}
export interface Ffi {
  DynamicLibrary: new (path: string | null) => Library;
  getInt32(address: bigint): number;
  getUint64(address: bigint): bigint;
  getRawPointer(buffer: Buffer): bigint;
  /** A copy of `length` bytes of memory at `address`. */
  toBuffer(address: bigint, length: number): Buffer;
}
/**
 * The internal binding is used only if it still does what this module asks
 * of it: its functions are there, and a library of the process, asked for
 * getpid with the `{ arguments, return }` signature, gives this pid (~40 µs).
 */
function fitsFfi(binding: Ffi): boolean {
  if (typeof binding.DynamicLibrary !== 'function') return false;
  if ([binding.getInt32, binding.getUint64, binding.getRawPointer, binding.toBuffer].some((f: unknown) => typeof f !== 'function')) return false;
  const library = new binding.DynamicLibrary(null);
  if (typeof library.getSymbol !== 'function') return false;
  const getpid = library.getFunction('getpid', { arguments: [], return: 'int32' });
  return typeof getpid === 'function' && getpid() === process.pid;
}
const ffi = internalBinding<Ffi>('ffi', fitsFfi) ?? (process.getBuiltinModule('node:ffi') as unknown as Ffi);
const libc = new ffi.DynamicLibrary(null);

/**
 * Resolves `name` with its C signature; F is the matching JavaScript type.
 * The keys are `arguments` and `return`: node:ffi silently accepts
 * `{ parameters, result }` too, and makes a function of no arguments.
 */
export function bind<F>(name: string, args: CType[], result: CType): F {
  return libc.getFunction(name, { arguments: args, return: result }) as F;
}

/**
 * Resolved on first call, each costing ~35 µs of start-up: what only the init
 * mode needs, or only on some of its paths, is never resolved otherwise.
 */
export function lazy<A extends unknown[], R>(name: string, args: CType[], result: CType): Lazy<A, R> {
  let resolved: ((...a: A) => R) | undefined;
  const resolve = () => (resolved ??= bind<(...a: A) => R>(name, args, result));
  const call = (...a: A): R => {
    const value = resolve()(...a);
    lazyErrno = readErrno();
    return value;
  };
  return Object.assign(call, { resolve: (): void => { resolve(); } });
}

/** A `lazy` function; `resolve()` pays for the look-up ahead of a first call that must be quick. */
export type Lazy<A extends unknown[], R> = ((...a: A) => R) & { readonly resolve: () => void };

/**
 * As `lazy`, for what an older glibc lacks: null when the symbol is not there
 * (resolving it throws `dlsym failed: … undefined symbol`).
 */
export function optional<A extends unknown[], R>(name: string, args: CType[], result: CType): () => ((...a: A) => R) | null {
  let resolved: ((...a: A) => R) | null | undefined;
  return () => {
    if (resolved === undefined) {
      try {
        resolved = bind<(...a: A) => R>(name, args, result);
      } catch {
        resolved = null;
      }
    }
    return resolved;
  };
}

// Called by both modes, or on init's forwarding path: resolved at once.
const c = {
  waitpid: bind<(pid: number, status: Pointer, options: number) => number>('waitpid', ['int32', 'pointer', 'int32'], 'int32'),
  kill: bind<(pid: number, signo: number) => number>('kill', ['int32', 'int32'], 'int32'),
  signal: bind<(signo: number, handler: Pointer) => bigint>('signal', ['int32', 'pointer'], 'pointer'),
  _exit: bind<(code: number) => void>('_exit', ['int32'], 'void'),
};
const errnoAddress = bind<() => bigint>('__errno_location', [], 'pointer')();

/**
 * errno of the main thread, read right after a call that failed, in the same
 * expression: through the binding's native getInt32 bound to errno's address,
 * so that no JavaScript function is entered between the call and the read
 * (entering one is where V8 runs its pending work, a garbage collection say,
 * whose own system calls may set errno). Public node:ffi's getInt32 is itself
 * JavaScript: the fallback reads errno one step later.
 */
const readErrno = ffi.getInt32.bind(ffi, errnoAddress) as () => number;
/** errno as the last call made through `lazy` left it (read after every such call). */
let lazyErrno = 0;
/** errno as the last call made through `lazy` left it: for the modules that bind their own functions with it. */
export const lastErrno = (): number => lazyErrno;

/** 0 on success, else the errno of the failed call. */
export type Errno = number;

export type WaitResult =
  | { kind: 'reaped'; pid: number; status: number }
  | { kind: 'none' } // children exist, none has exited
  | { kind: 'no-children' };

const statusBuffer = Buffer.alloc(4);

/**
 * waitpid(pid, &status, WNOHANG): collect the child `pid` if it has exited;
 * with -1, any one exited child.
 */
export function reapPid(pid: number): WaitResult {
  for (;;) {
    const reaped = c.waitpid(pid, statusBuffer, WNOHANG);
    const error = reaped < 0 ? readErrno() : 0;
    if (reaped > 0) return { kind: 'reaped', pid: reaped, status: statusBuffer.readInt32LE(0) };
    if (reaped === 0) return { kind: 'none' };
    if (error === EINTR) continue;
    if (error === ECHILD) return { kind: 'no-children' };
    throw new Error(`waitpid failed with errno ${error}`);
  }
}

/** Collect one exited child, if any. */
export function reapOne(): WaitResult {
  return reapPid(-1);
}

export const waitid = lazy<[idtype: number, id: number, info: Buffer, options: number], number>('waitid', ['int32', 'int32', 'pointer', 'int32'], 'int32');
const peekInfo = Buffer.alloc(SIGINFO_BYTES);

/**
 * waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT): the pid of a child that has
 * exited, left unreaped (its pid stays taken) for reapPid to collect.
 */
export function peekExited(): { kind: 'exited'; pid: number } | { kind: 'none' } | { kind: 'no-children' } {
  for (;;) {
    peekInfo.fill(0); // with WNOHANG and no exit, waitid leaves si_pid as it was
    const result = waitid(P_ALL, 0, peekInfo, WEXITED | WNOHANG | WNOWAIT);
    const error = result === 0 ? 0 : lazyErrno;
    if (result === 0) {
      const pid = peekInfo.readInt32LE(SIGINFO_PID);
      return pid === 0 ? { kind: 'none' } : { kind: 'exited', pid };
    }
    if (error === EINTR) continue;
    if (error === ECHILD) return { kind: 'no-children' };
    throw new Error(`waitid failed with errno ${error}`);
  }
}

export function kill(pid: number, signo: number): Errno {
  return c.kill(pid, signo) === 0 ? 0 : readErrno();
}

// syscall is variadic: its arguments are longs, passed as a fixed-argument
// call's are on x86-64 and arm64 Linux.
const syscall4 = lazy<[number: bigint, a1: bigint, a2: bigint, a3: bigint, a4: Buffer], bigint>('syscall', ['uint64', 'uint64', 'uint64', 'uint64', 'pointer'], 'uint64');

/**
 * rt_tgsigqueueinfo(getpid(), tid, signo, info) with si_code `code`: one
 * signal queued to one of this process's own threads (the kernel checks that
 * `tid` is in this thread group), with a code its handler can recognise.
 */
export function queueToOwnThread(tid: number, signo: number, code: number): Errno {
  const info = Buffer.alloc(SIGINFO_BYTES);
  info.writeInt32LE(signo, SIGINFO_SIGNO);
  info.writeInt32LE(code, SIGINFO_CODE);
  info.writeInt32LE(process.pid, SIGINFO_PID);
  info.writeUInt32LE(process.getuid?.() ?? 0, SIGINFO_UID);
  const result = syscall4(SYS_RT_TGSIGQUEUEINFO, BigInt(process.pid), BigInt(tid), BigInt(signo), info);
  return result === 0n ? 0 : lazyErrno;
}

// prctl is variadic; called with integer arguments only, the fixed-argument
// call is the same on x86-64 and arm64 Linux (as for fcntl below).
const prctl = lazy<[option: number, a2: bigint, a3: bigint, a4: bigint, a5: bigint], number>('prctl', ['int32', 'uint64', 'uint64', 'uint64', 'uint64'], 'int32');

export function setChildSubreaper(): Errno {
  return prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0 ? 0 : lazyErrno;
}

export function setParentDeathSignal(signo: number): Errno {
  return prctl(PR_SET_PDEATHSIG, BigInt(signo), 0n, 0n, 0n) === 0 ? 0 : lazyErrno;
}

let nameBytes = Buffer.alloc(0);

/**
 * prctl(PR_SET_NAME): names the calling thread. Called on the main thread,
 * whose name is the process's /proc/PID/comm: what ps -o comm, top, pgrep
 * and busybox ps show. Node names its main thread `node-MainThread` while it
 * starts; the exec had named it after the file. /proc/PID/cmdline is not
 * touched (process.title would overwrite the argv the runtime passed).
 * The kernel keeps the first 15 bytes.
 */
export function nameMainThread(name: string): Errno {
  // The address passes as an integer through the same binding as the other
  // prctl options; the module holds the bytes, so nothing can free them first.
  nameBytes = Buffer.from(`${name}\0`);
  return prctl(PR_SET_NAME, ffi.getRawPointer(nameBytes), 0n, 0n, 0n) === 0 ? 0 : lazyErrno;
}

/** signal(signo, SIG_IGN). */
export function ignoreSignal(signo: number): Errno {
  // SIG_ERR is ((__sighandler_t) -1).
  return c.signal(signo, SIG_IGN) === 0xffff_ffff_ffff_ffffn ? readErrno() : 0;
}

/**
 * A sigset_t holding `signals`, written bit by bit as glibc lays it out
 * (unsigned longs, signal n at bit n-1): cheaper than binding sigemptyset and
 * sigaddset, and able to name glibc's internal 32 and 33, which sigaddset and
 * sigfillset refuse.
 */
export function sigset(signals: readonly number[], set: Buffer<ArrayBufferLike> = Buffer.alloc(SIGSET_BYTES)): Buffer<ArrayBufferLike> {
  for (const signo of signals) set[(signo - 1) >> 3]! |= 1 << ((signo - 1) & 7);
  return set;
}

const pthreadSigmask = lazy<[how: number, set: Pointer, old: Pointer], number>('pthread_sigmask', ['int32', 'pointer', 'pointer'], 'int32');

function changeThreadMask(how: number, signals: readonly number[]): Errno {
  return pthreadSigmask(how, sigset(signals), null); // pthread_* return the error number itself.
}

/** Unblocks signals in the calling (main) thread only. */
export function unblockSignals(signals: readonly number[]): Errno {
  return changeThreadMask(SIG_UNBLOCK, signals);
}

/** Blocks signals in the calling (main) thread only. */
export function blockSignals(signals: readonly number[]): Errno {
  return changeThreadMask(SIG_BLOCK, signals);
}

// --- Memory and signal handlers, for src/forwarder.ts.

/** <linux/auxvec.h>: the program's entry point, as the kernel (or ld.so run as a program) put it. */
const AT_ENTRY = 9n;
export const getauxval = lazy<[type: bigint], bigint>('getauxval', ['uint64'], 'uint64');
/**
 * <bits/sigaction.h>: glibc's struct sigaction, the same on x86-64 and arm64:
 * { sa_handler; sigset_t sa_mask; int sa_flags; void (*sa_restorer)(void); },
 * 152 bytes. Only the handler and a flag are changed; the rest is kept as read.
 */
const SIGACTION_BYTES = 152;
const SIGACTION_HANDLER = 0;
const SIGACTION_FLAGS = 8 + SIGSET_BYTES;
/** <bits/sigaction.h>: the handler takes (signo, siginfo_t *, ucontext_t *). */
const SA_SIGINFO = 4;
const memcpy = lazy<[to: bigint, from: Buffer, length: bigint], bigint>('memcpy', ['pointer', 'pointer', 'uint64'], 'pointer');
const sigaction = lazy<[signo: number, act: Pointer, old: Pointer], number>('sigaction', ['int32', 'pointer', 'pointer'], 'int32');

/** Where the executable's ELF entry point was loaded. */
export function entryPoint(): bigint {
  return getauxval(AT_ENTRY);
}

/** A copy of `length` bytes at `address`, which must be mapped readable. */
export function readMemory(address: bigint, length: number): Buffer {
  return ffi.toBuffer(address, length);
}

/** The 64-bit word at `address`, which must be mapped readable. */
export function readUint64(address: bigint): bigint {
  return ffi.getUint64(address);
}

/** Where the symbol `name` of the process (the executable, libc, the loader) is. */
export function symbolAddress(name: string): bigint {
  return libc.getSymbol(name);
}

/** Copies `bytes` to `address`, which must be mapped writable. */
export function writeMemory(address: bigint, bytes: Buffer): void {
  memcpy(address, bytes, BigInt(bytes.length));
}

/** The address of a buffer's bytes: stable for a SharedArrayBuffer's, and for any Buffer off V8's heap. */
export function addressOf(buffer: Buffer): bigint {
  return ffi.getRawPointer(buffer);
}

/** signo's struct sigaction as it is now, or null when sigaction fails. */
export function currentSignalAction(signo: number): Buffer | null {
  const action = Buffer.alloc(SIGACTION_BYTES);
  return sigaction(signo, null, action) === 0 ? action : null;
}

/** The handler of an action currentSignalAction read (sa_handler: SIG_DFL is 0, SIG_IGN 1). */
export function handlerOf(action: Buffer): bigint {
  return action.readBigUInt64LE(SIGACTION_HANDLER);
}

/**
 * `action` with `handler`, an SA_SIGINFO handler, in place of its own, and
 * the same flags and mask (for an action of libuv's: SA_RESTART, every
 * signal blocked while the handler runs).
 */
export function withSigInfoHandler(action: Buffer, handler: bigint): Buffer {
  const changed = Buffer.from(action);
  changed.writeBigUInt64LE(handler, SIGACTION_HANDLER);
  changed.writeInt32LE(changed.readInt32LE(SIGACTION_FLAGS) | SA_SIGINFO, SIGACTION_FLAGS);
  return changed;
}

/** sigaction(signo, action, NULL): 0 or the errno. */
export function setSignalAction(signo: number, action: Buffer): Errno {
  return sigaction(signo, action, null) === 0 ? 0 : lazyErrno;
}

/** pthread_t is an unsigned long (glibc, x86-64 and arm64). */
const threadIds: Buffer[] = [];
const pthreadCreate = lazy<[thread: Buffer, attr: null, start: bigint, arg: null], number>('pthread_create', ['pointer', 'pointer', 'pointer', 'pointer'], 'int32');

/** Resolves what startThread and queueToOwnThread call, so that their first calls are quick. */
export function resolveThreadCalls(): void {
  pthreadCreate.resolve();
  syscall4.resolve();
}

/**
 * Starts a thread that runs the code at `start` (a start routine that never
 * returns) with the calling thread's signal mask. 0 or the error number
 * (EAGAIN under a task limit).
 */
export function startThread(start: bigint): Errno {
  const id = Buffer.alloc(POINTER_BYTES);
  const error = pthreadCreate(id, null, start, null); // pthread_* return the error number itself
  if (error === 0) threadIds.push(id);
  return error;
}

/**
 * _exit(2): ends every thread at once. Node's own exit first joins its
 * threads, and a thread that the kernel keeps handing queued real-time
 * signals (up to RLIMIT_SIGPENDING of them) may not get there for seconds.
 * Everything pause writes is written synchronously, so nothing is lost.
 */
export function exitNow(code: number): never {
  c._exit(code);
  throw new Error('_exit returned');
}

