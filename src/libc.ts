// The C library, called directly through node:ffi. The only module that uses
// node:ffi: everything else asks for a named operation here.
//
// No native addon: an addon would have to be extracted to a file before it
// could be loaded, and a pod sandbox has a read-only root and no writable /tmp.
// A library opened with a null path resolves symbols of the process itself,
// i.e. the glibc the executable was linked against.
import { internalBinding } from './internals.ts';
import { ALL_SIGNALS } from './signals.ts';

// --- Constants, each with where it comes from (glibc 2.36 headers, Linux UAPI).
/** <sys/wait.h>: return at once if no child has changed state. */
const WNOHANG = 1;
/** <bits/waitflags.h>: waitid reports stopped children (and, without WEXITED, only those). */
const WSTOPPED = 2;
/** <bits/types/idtype_t.h> via <sys/wait.h>: waitid's id is a pid. */
const P_PID = 1;
/** <bits/waitflags.h>: waitid reports exited children; with WNOWAIT, leaves them waitable (unreaped). */
const WEXITED = 4;
const WNOWAIT = 0x01000000;
/** <bits/types/idtype_t.h>: waitid's id is ignored, any child. */
const P_ALL = 0;
/** <bits/types/siginfo_t.h>: 128 bytes; si_pid at 16 (after si_signo, si_errno, si_code and padding), x86-64 and arm64. */
const SIGINFO_BYTES = 128;
const SIGINFO_PID = 16;
/** <bits/signum-generic.h> */
const SIGCONT = 18;
/** <asm-generic/errno-base.h> */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
const EINTR = 4;
/** fork/clone: the task limit (RLIMIT_NPROC, a pids cgroup, threads-max) is reached. */
const EAGAIN = 11;
export const ENOEXEC = 8;
const ECHILD = 10;
export const EACCES = 13;
export const ENOTDIR = 20;
export const EISDIR = 21;
/** <bits/fcntl-linux.h>: read the descriptor flags (FD_CLOEXEC); fails with EBADF when fd is not open. */
const F_GETFD = 1;
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
/** <spawn.h>: the posix_spawnattr_t flags. */
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** <bits/types/__sigset_t.h>: glibc's sigset_t is 1024 bits. */
const SIGSET_BYTES = 128;
/**
 * <spawn.h>: posix_spawnattr_t is a public struct, so its layout is part of
 * glibc's ABI, the same on x86-64 and arm64: { short __flags; pid_t __pgrp;
 * sigset_t __sd; sigset_t __ss; struct sched_param __sp; int __policy;
 * int __pad[16]; }, 336 bytes. posix_spawnattr_init zeroes it, the setters
 * store one field each and posix_spawnattr_destroy does nothing: pause writes
 * the fields itself instead of resolving six functions at start-up.
 */
const SPAWNATTR_BYTES = 336;
const SPAWNATTR_FLAGS = 0; // short
const SPAWNATTR_PGROUP = 4; // pid_t
const SPAWNATTR_SIGDEFAULT = 8; // sigset_t
const SPAWNATTR_SIGMASK = SPAWNATTR_SIGDEFAULT + SIGSET_BYTES; // sigset_t
/** posix_spawn_file_actions_t is 80 bytes; initialised by glibc in a zeroed buffer with room to spare. */
const FILE_ACTIONS_BYTES = 256;
const POINTER_BYTES = 8;

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
type Pointer = Buffer | bigint | null;
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
function bind<F>(name: string, args: CType[], result: CType): F {
  return libc.getFunction(name, { arguments: args, return: result }) as F;
}

/**
 * Resolved on first call, each costing ~35 µs of start-up: what only the init
 * mode needs, or only on some of its paths, is never resolved otherwise.
 */
function lazy<A extends unknown[], R>(name: string, args: CType[], result: CType): (...a: A) => R {
  let resolved: ((...a: A) => R) | undefined;
  return (...a) => {
    const value = (resolved ??= bind<(...a: A) => R>(name, args, result))(...a);
    lazyErrno = readErrno();
    return value;
  };
}

/**
 * As `lazy`, for what an older glibc lacks: null when the symbol is not there
 * (resolving it throws `dlsym failed: … undefined symbol`).
 */
function optional<A extends unknown[], R>(name: string, args: CType[], result: CType): () => ((...a: A) => R) | null {
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

/** 0 on success, else the errno of the failed call. */
export type Errno = number;

export type WaitResult =
  | { kind: 'reaped'; pid: number; status: number }
  | { kind: 'none' } // children exist, none has exited
  | { kind: 'no-children' };

const statusBuffer = Buffer.alloc(4);

/** waitpid(-1, &status, WNOHANG): collect one exited child, if any. */
export function reapOne(): WaitResult {
  for (;;) {
    const pid = c.waitpid(-1, statusBuffer, WNOHANG);
    const error = pid < 0 ? readErrno() : 0;
    if (pid > 0) return { kind: 'reaped', pid, status: statusBuffer.readInt32LE(0) };
    if (pid === 0) return { kind: 'none' };
    if (error === EINTR) continue;
    if (error === ECHILD) return { kind: 'no-children' };
    throw new Error(`waitpid failed with errno ${error}`);
  }
}

const peekInfo = Buffer.alloc(SIGINFO_BYTES);

/**
 * waitid(P_ALL, WEXITED | WNOHANG | WNOWAIT): the pid of a child that has
 * exited, left unreaped (its pid stays taken) for reapPid.
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

/** waitpid(pid, &status, WNOHANG) for a child peekExited found exited. */
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

export function kill(pid: number, signo: number): Errno {
  return c.kill(pid, signo) === 0 ? 0 : readErrno();
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
function sigset(signals: readonly number[], set = Buffer.alloc(SIGSET_BYTES)): Buffer {
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

// --- What only the init mode needs, resolved on first use.
const fcntl = lazy<[fd: number, command: number, arg: number], number>('fcntl', ['int32', 'int32', 'int32'], 'int32');
const tcgetpgrp = lazy<[fd: number], number>('tcgetpgrp', ['int32'], 'int32');
const tcsetpgrp = lazy<[fd: number, pgrp: number], number>('tcsetpgrp', ['int32', 'int32'], 'int32');
const getpgrp = lazy<[], number>('getpgrp', [], 'int32');
const spawnp = lazy<[pid: Buffer, file: Pointer, actions: Buffer, attr: Buffer, argv: Buffer, envp: bigint], number>(
  'posix_spawnp', ['pointer', 'pointer', 'pointer', 'pointer', 'pointer', 'pointer'], 'int32');
const actionsInit = lazy<[actions: Buffer], number>('posix_spawn_file_actions_init', ['pointer'], 'int32');
const actionsDestroy = lazy<[actions: Buffer], number>('posix_spawn_file_actions_destroy', ['pointer'], 'int32');
const addClose = lazy<[actions: Buffer, fd: number], number>('posix_spawn_file_actions_addclose', ['pointer', 'int32'], 'int32');
const addDup2 = lazy<[actions: Buffer, fd: number, to: number], number>('posix_spawn_file_actions_adddup2', ['pointer', 'int32', 'int32'], 'int32');
// glibc ≥ 2.35: the child makes its own process group the terminal's
// foreground group before it execs, so it never runs in the background.
// Older: pause does it after the spawn (foregroundAfterSpawn).
const addTcsetpgrp = optional<[actions: Buffer, fd: number], number>('posix_spawn_file_actions_addtcsetpgrp_np', ['pointer', 'int32'], 'int32');
// glibc ≥ 2.34: close every descriptor from a number up, in the child.
// Older: Node's own descriptors are closed one by one (all are close-on-exec anyway).
const addClosefrom = optional<[actions: Buffer, from: number], number>('posix_spawn_file_actions_addclosefrom_np', ['pointer', 'int32'], 'int32');
const waitid = lazy<[idtype: number, id: number, info: Buffer, options: number], number>('waitid', ['int32', 'int32', 'pointer', 'int32'], 'int32');

export function isOpenDescriptor(fd: number): boolean {
  return fcntl(fd, F_GETFD, 0) !== -1;
}

/** True when fd is a terminal whose foreground process group is ours (tcgetpgrp fails on anything else). */
export function ownsTerminalForeground(fd: number): boolean {
  const foreground = tcgetpgrp(fd);
  return foreground !== -1 && foreground === getpgrp();
}

/** Gives the terminal's foreground back to pause's own group. */
export function reclaimTerminalForeground(fd: number): Errno {
  return tcsetpgrp(fd, getpgrp()) === 0 ? 0 : lazyErrno;
}

export interface SpawnRequest {
  /** argv[0] is looked up in PATH as execvp(3) does. */
  readonly argv: readonly string[];
  /** Descriptors the child gets at the same numbers (Node marks even stdio close-on-exec). */
  readonly inheritFds: readonly number[];
  /** Descriptors closed in the child (below closeFrom). */
  readonly closeFds: readonly number[];
  /** Every descriptor from this number up is closed in the child, whatever its flags. */
  readonly closeFrom: number;
  /** Node's own descriptors from closeFrom up: closed one by one where glibc has no closefrom (< 2.34). */
  readonly closeAbove: readonly number[];
  /** Make the child's group the foreground group of the terminal on this fd. */
  readonly foregroundFd: number | null;
}

export type SpawnResult = { ok: true; pid: number } | { ok: false; errno: Errno; step: string };

/**
 * posix_spawnp with a clean slate: the child leads its own process group, has
 * an empty signal mask and every signal at its default disposition (Node
 * ignores SIGPIPE and SIGXFSZ, pause ignores SIGTTIN and SIGTTOU, and blocked
 * or ignored signals survive exec), and keeps exactly the descriptors asked for.
 * Its environment is the one the kernel gave pause (kernelEnvironment), byte for byte.
 */
export function spawn(request: SpawnRequest): SpawnResult {
  const actions = Buffer.alloc(FILE_ACTIONS_BYTES);
  const error = actionsInit(actions);
  if (error) return spawnFailure(error, 'posix_spawn_file_actions_init');
  try {
    const result = addFileActions(actions, request) ?? spawnWith(request.argv, actions, spawnAttributes());
    if (result.ok && request.foregroundFd !== null && addTcsetpgrp() === null) foregroundAfterSpawn(request.foregroundFd, result.pid);
    return result;
  } finally {
    actionsDestroy(actions);
  }
}

function spawnFailure(errno: Errno, step: string): SpawnResult {
  return { ok: false, errno, step };
}

/** The child's own process group, an empty signal mask, every signal at SIG_DFL. */
function spawnAttributes(): Buffer {
  const attr = Buffer.alloc(SPAWNATTR_BYTES);
  attr.writeInt16LE(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK, SPAWNATTR_FLAGS);
  attr.writeInt32LE(0, SPAWNATTR_PGROUP); // 0: a new group, led by the child
  // Every signal 1..64 back to SIG_DFL, glibc's internal 32 and 33 included:
  // posix_spawn sets whatever is not in this set to SIG_IGN in the child,
  // where it would outlive exec. The mask (SPAWNATTR_SIGMASK) stays empty.
  sigset(ALL_SIGNALS, attr.subarray(SPAWNATTR_SIGDEFAULT, SPAWNATTR_SIGMASK));
  return attr;
}

/** The descriptors and terminal of `request`, as file actions; null when all were added. */
function addFileActions(actions: Buffer, request: SpawnRequest): SpawnResult | null {
  // dup2(fd, fd) in the child clears FD_CLOEXEC on fd: the way to hand over
  // a descriptor that Node marked close-on-exec.
  for (const fd of request.inheritFds) {
    const error = addDup2(actions, fd, fd);
    if (error) return spawnFailure(error, `passing descriptor ${fd}`);
  }
  for (const fd of request.closeFds) {
    const error = addClose(actions, fd);
    if (error) return spawnFailure(error, `closing descriptor ${fd}`);
  }
  const closefrom = addClosefrom();
  for (const fd of closefrom ? [] : request.closeAbove) {
    const error = addClose(actions, fd);
    if (error) return spawnFailure(error, `closing descriptor ${fd}`);
  }
  let error = closefrom ? closefrom(actions, request.closeFrom) : 0;
  if (error) return spawnFailure(error, 'posix_spawn_file_actions_addclosefrom_np');
  const tcsetpgrpAction = request.foregroundFd === null ? null : addTcsetpgrp();
  if (tcsetpgrpAction && request.foregroundFd !== null) {
    error = tcsetpgrpAction(actions, request.foregroundFd);
    if (error) return spawnFailure(error, 'posix_spawn_file_actions_addtcsetpgrp_np');
  }
  return null;
}

/**
 * Without the file action (glibc < 2.35), the terminal's foreground goes to
 * the child's group from here, once the child has exec'd. Until then the child
 * is in the background: touching the terminal (a read, or tcsetattr as shells
 * and editors do first thing) stops it with SIGTTIN or SIGTTOU. Once its group
 * has the foreground it cannot be stopped so again; if it already was, the
 * stop is still unreported (waitid without WEXITED reports stops only, and
 * reaps nothing) and SIGCONT resumes it, as a shell's `fg` does.
 */
function foregroundAfterSpawn(fd: number, pid: number): void {
  if (tcsetpgrp(fd, pid) !== 0) return; // the terminal stays pause's; the child may stop on it, as under a shell's `bg`
  const info = Buffer.alloc(SIGINFO_BYTES);
  if (waitid(P_PID, pid, info, WSTOPPED | WNOHANG) === 0 && info.readInt32LE(SIGINFO_PID) === pid) c.kill(-pid, SIGCONT);
}

/** posix_spawnp itself, argv[0] looked up in PATH. */
function spawnWith(args: readonly string[], actions: Buffer, attr: Buffer): SpawnResult {
  const strings = args.map((arg) => Buffer.from(`${arg}\0`));
  const argv = Buffer.alloc((strings.length + 1) * POINTER_BYTES);
  strings.forEach((str, i) => argv.writeBigUInt64LE(ffi.getRawPointer(str), i * POINTER_BYTES));
  const pid = Buffer.alloc(4);
  const { envp, path } = kernelEnvironment();
  // posix_spawnp looks COMMAND up in the PATH of pause's own environment,
  // which the entry stub emptied: put back, by address, the one execvp would
  // have used (the first). Node reads no PATH.
  if (path !== null && !pathRestored) pathRestored = putenv(path) === 0;
  const error = spawnp(pid, strings[0] ?? null, actions, attr, argv, ffi.getRawPointer(envp));
  // `strings` must stay reachable until here: argv holds raw pointers into them.
  strings.length = 0;
  return error ? spawnFailure(error, failedStep(error)) : { ok: true, pid: pid.readInt32LE(0) };
}

/**
 * Which step of posix_spawnp failed, from its error alone (it returns the
 * same number for both). glibc makes the child with clone(CLONE_VM |
 * CLONE_VFORK) and returns clone's error; a child that was made passes the
 * error of its file actions or of execve back through the memory they share.
 * Only clone fails with EAGAIN here: execve does so only for a process whose
 * real uid a set*uid call changed while over RLIMIT_NPROC (the kernel's
 * PF_NPROC_EXCEEDED, cleared by pause's own exec, never set by posix_spawn
 * without POSIX_SPAWN_RESETIDS), and no file action pause asks for can.
 */
function failedStep(error: Errno): string {
  return error === EAGAIN ? 'fork' : 'exec';
}

// --- The environment as the kernel gave it.
//
// The executable's entry stub (scripts/entry-stub.ts) hides the environment
// from Node: glibc's `environ` is empty. The strings are still where the
// kernel put them. At exec it lays out, end to end at the top of the new
// stack, the argv strings, the environment strings, then the file name it
// ran; below them argc, the argv pointers and NULL, the envp pointers and
// NULL, then the auxiliary vector. The dynamic loader's `__libc_stack_end`
// points at argc. Nothing writes to the strings afterwards (libuv copies
// argv; setenv and unsetenv change only pointer arrays), so they are the
// environment byte for byte, with what Node would have deleted
// (NODE_CHANNEL_FD, NODE_UNIQUE_ID), entries without `=` and bytes that are
// not UTF-8. No /proc is needed, and it is the same as PID 1.

/** <linux/auxvec.h>: the auxiliary vector's entry for the file name the program was exec'd as. */
const AT_EXECFN = 31n;
/** Auxiliary vector types are small numbers (<linux/auxvec.h>, <asm/auxvec.h>); no stack address is this low. */
const AUXV_TYPE_LIMIT = 4096n;
const getauxval = lazy<[type: bigint], bigint>('getauxval', ['uint64'], 'uint64');
const strlen = lazy<[string: bigint], bigint>('strlen', ['pointer'], 'uint64');
const putenv = lazy<[entry: bigint], number>('putenv', ['pointer'], 'int32');
let pathRestored = false;

export interface KernelEnvironment {
  /** Each entry's bytes, in the kernel's order, without the NUL: NAME=VALUE or not. */
  readonly entries: readonly Buffer[];
  /** The command's envp: the addresses of those strings on the stack, then NULL. */
  readonly envp: Buffer;
  /** The address of the first entry that starts with `PATH=`, or null. */
  readonly path: bigint | null;
}

let kernelEnv: KernelEnvironment | undefined;

/** The environment pause was exec'd with, read from the initial stack (once). */
export function kernelEnvironment(): KernelEnvironment {
  return (kernelEnv ??= readKernelEnvironment());
}

const LAYOUT_ERROR = 'the initial stack is not laid out as Linux lays it out: the environment cannot be read from it';

/** Where each NUL-terminated string of `area` starts; null if the last is not terminated. */
function stringStarts(area: Buffer): number[] | null {
  const starts: number[] = [];
  for (let at = 0; at < area.length; ) {
    const nul = area.indexOf(0, at);
    if (nul === -1) return null;
    starts.push(at);
    at = nul + 1;
  }
  return starts;
}

/**
 * Where the environment's strings end, and the addresses envp[1..] hold (to
 * check the strings against). The stub stored NULL over envp[0]; the rest of
 * the array is as the kernel wrote it, and the word after envp[0] is either
 * the array's NULL (one entry), envp[1], or, with no environment at all, the
 * auxiliary vector's first type. Without the stub (the sources under a plain
 * node) envp[0] is intact and the kernel's AT_EXECFN marks the end, unless
 * the loader was run as a program: it points AT_EXECFN at the program's name.
 */
function environmentEnd(envpAt: (j: number) => bigint, start: bigint): { end: bigint; pointers: bigint[] | null } {
  if (envpAt(0) !== 0n) return { end: getauxval(AT_EXECFN), pointers: null };
  const second = envpAt(1);
  if (second !== 0n && second < AUXV_TYPE_LIMIT) return { end: start, pointers: [] };
  const pointers = [start];
  for (let j = 1; envpAt(j) !== 0n; j++) pointers.push(envpAt(j));
  const last = pointers[pointers.length - 1]!;
  return { end: last + strlen(last) + 1n, pointers };
}

function readKernelEnvironment(): KernelEnvironment {
  const stack = ffi.getUint64(libc.getSymbol('__libc_stack_end'));
  const argc = Number(ffi.getUint64(stack));
  const word = (i: number): bigint => ffi.getUint64(stack + BigInt((1 + i) * POINTER_BYTES));
  // argc, argv NULL-terminated, argv[0] the string glibc took the program's name from.
  if (argc < 1 || word(argc) !== 0n || word(0) !== ffi.getUint64(libc.getSymbol('program_invocation_name'))) throw new Error(LAYOUT_ERROR);
  const lastArg = word(argc - 1);
  const start = lastArg + strlen(lastArg) + 1n;
  const { end, pointers } = environmentEnd((j) => word(argc + 1 + j), start);
  const area = end > start ? ffi.toBuffer(start, Number(end - start)) : Buffer.alloc(0);
  const starts = end >= start ? stringStarts(area) : null;
  if (!starts || (pointers && (pointers.length !== starts.length || pointers.some((p, j) => p !== start + BigInt(starts[j]!))))) {
    throw new Error(LAYOUT_ERROR);
  }
  const entries = starts.map((at) => area.subarray(at, area.indexOf(0, at)));
  const envp = Buffer.alloc((starts.length + 1) * POINTER_BYTES);
  starts.forEach((at, i) => envp.writeBigUInt64LE(start + BigInt(at), i * POINTER_BYTES));
  const pathIndex = entries.findIndex((entry) => entry.subarray(0, 5).toString('latin1') === 'PATH=');
  return { entries, envp, path: pathIndex === -1 ? null : start + BigInt(starts[pathIndex]!) };
}
