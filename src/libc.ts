// The C library, called directly through node:ffi. The only module that imports
// node:ffi: everything else asks for a named operation here.
//
// No native addon: an addon would have to be extracted to a file before it
// could be loaded, and a pod sandbox has a read-only root and no writable /tmp.
// dlopen(null) resolves symbols of the process itself, i.e. the glibc the
// executable was linked against.
import ffi from 'node:ffi';
import { ALL_SIGNALS } from './signals.ts';

// --- Constants, each with where it comes from (glibc 2.36 headers, Linux UAPI).
/** <sys/wait.h>: return at once if no child has changed state. */
const WNOHANG = 1;
/** <asm-generic/errno-base.h> */
const EINTR = 4;
export const ESRCH = 3;
const ECHILD = 10;
/** <linux/prctl.h>: deliver a signal to this process when its parent dies. */
const PR_SET_PDEATHSIG = 1;
/** <linux/prctl.h>: become the reaper of orphaned descendants (Linux ≥ 3.4). */
const PR_SET_CHILD_SUBREAPER = 36;
/** <bits/sigaction.h> via <signal.h>: the `how` of pthread_sigmask. */
const SIG_BLOCK = 0;
const SIG_UNBLOCK = 1;
/** <bits/signum-generic.h>: sighandler_t SIG_IGN is ((__sighandler_t) 1). */
const SIG_IGN = 1n;
/** <spawn.h> flags for posix_spawnattr_setflags. */
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** <bits/fcntl-linux.h>: read the descriptor flags (FD_CLOEXEC). */
const F_GETFD = 1;
/** glibc's sigset_t is 1024 bits; posix_spawnattr_t is 336 bytes and
 * posix_spawn_file_actions_t 80 on x86-64 and arm64: zeroed buffers of these
 * sizes hold them with room to spare. */
const SIGSET_BYTES = 128;
const SPAWNATTR_BYTES = 512;
const FILE_ACTIONS_BYTES = 256;
const POINTER_BYTES = 8;

// --- Bindings. Note the signature shape: `{ arguments, return }`; node:ffi
// silently accepts `{ parameters, result }` and makes a zero-argument function.
const core = ffi.dlopen(null, {
  waitpid: { arguments: ['int32', 'pointer', 'int32'], return: 'int32' },
  kill: { arguments: ['int32', 'int32'], return: 'int32' },
  // prctl and fcntl are variadic; called with integer arguments only, the
  // fixed-argument call is the same on x86-64 and arm64 Linux.
  prctl: { arguments: ['int32', 'uint64', 'uint64', 'uint64', 'uint64'], return: 'int32' },
  signal: { arguments: ['int32', 'pointer'], return: 'pointer' },
  pthread_sigmask: { arguments: ['int32', 'pointer', 'pointer'], return: 'int32' },
  __errno_location: { arguments: [], return: 'pointer' },
  _exit: { arguments: ['int32'], return: 'void' },
});
const c = core.functions;
const errnoAddress = c.__errno_location();

function errno(): number {
  return ffi.getInt32(errnoAddress);
}

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
    if (pid > 0) return { kind: 'reaped', pid, status: statusBuffer.readInt32LE(0) };
    if (pid === 0) return { kind: 'none' };
    const error = errno();
    if (error === EINTR) continue;
    if (error === ECHILD) return { kind: 'no-children' };
    throw new Error(`waitpid failed with errno ${error}`);
  }
}

export function kill(pid: number, signo: number): Errno {
  return c.kill(pid, signo) === 0 ? 0 : errno();
}

export function setChildSubreaper(): Errno {
  return c.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0 ? 0 : errno();
}

export function setParentDeathSignal(signo: number): Errno {
  return c.prctl(PR_SET_PDEATHSIG, BigInt(signo), 0n, 0n, 0n) === 0 ? 0 : errno();
}

/** signal(signo, SIG_IGN). */
export function ignoreSignal(signo: number): Errno {
  // SIG_ERR is ((__sighandler_t) -1).
  return c.signal(signo, SIG_IGN) === 0xffff_ffff_ffff_ffffn ? errno() : 0;
}

/**
 * A sigset_t holding `signals`, written bit by bit as glibc lays it out
 * (unsigned longs, signal n at bit n-1): cheaper than binding sigemptyset and
 * sigaddset, and able to name glibc's internal 32 and 33, which sigaddset and
 * sigfillset refuse.
 */
function sigset(signals: readonly number[]): Buffer {
  const set = Buffer.alloc(SIGSET_BYTES);
  for (const signo of signals) set[(signo - 1) >> 3]! |= 1 << ((signo - 1) & 7);
  return set;
}

function changeThreadMask(how: number, signals: readonly number[]): Errno {
  return c.pthread_sigmask(how, sigset(signals), null); // pthread_* return the error number itself.
}

/** Unblocks signals in the calling (main) thread only. */
export function unblockSignals(signals: readonly number[]): Errno {
  return changeThreadMask(SIG_UNBLOCK, signals);
}

/** Blocks signals in the calling (main) thread only. */
export function blockSignals(signals: readonly number[]): Errno {
  return changeThreadMask(SIG_BLOCK, signals);
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

// --- What only the init mode needs, resolved on first use so that pause mode
// pays nothing for it.
const spawnDefinitions = {
  posix_spawnp: { arguments: ['pointer', 'pointer', 'pointer', 'pointer', 'pointer', 'pointer'], return: 'int32' },
  posix_spawnattr_init: { arguments: ['pointer'], return: 'int32' },
  posix_spawnattr_destroy: { arguments: ['pointer'], return: 'int32' },
  posix_spawnattr_setflags: { arguments: ['pointer', 'int16'], return: 'int32' },
  posix_spawnattr_setsigmask: { arguments: ['pointer', 'pointer'], return: 'int32' },
  posix_spawnattr_setsigdefault: { arguments: ['pointer', 'pointer'], return: 'int32' },
  posix_spawnattr_setpgroup: { arguments: ['pointer', 'int32'], return: 'int32' },
  posix_spawn_file_actions_init: { arguments: ['pointer'], return: 'int32' },
  posix_spawn_file_actions_destroy: { arguments: ['pointer'], return: 'int32' },
  posix_spawn_file_actions_adddup2: { arguments: ['pointer', 'int32', 'int32'], return: 'int32' },
  // glibc ≥ 2.35: the child makes its own process group the terminal's
  // foreground group before it execs, so it never runs in the background.
  posix_spawn_file_actions_addtcsetpgrp_np: { arguments: ['pointer', 'int32'], return: 'int32' },
  // glibc ≥ 2.34: close every descriptor from a number up, in the child.
  posix_spawn_file_actions_addclosefrom_np: { arguments: ['pointer', 'int32'], return: 'int32' },
  fcntl: { arguments: ['int32', 'int32', 'int32'], return: 'int32' },
  isatty: { arguments: ['int32'], return: 'int32' },
  getpgrp: { arguments: [], return: 'int32' },
  tcgetpgrp: { arguments: ['int32'], return: 'int32' },
  tcsetpgrp: { arguments: ['int32', 'int32'], return: 'int32' },
} as const;

type SpawnFunctions = ReturnType<typeof ffi.dlopen<typeof spawnDefinitions>>;
let spawnLibrary: SpawnFunctions | undefined;
function s(): SpawnFunctions['functions'] {
  spawnLibrary ??= ffi.dlopen(null, spawnDefinitions);
  return spawnLibrary.functions;
}

export function isOpenDescriptor(fd: number): boolean {
  return s().fcntl(fd, F_GETFD, 0) !== -1;
}

/** True when fd is a terminal whose foreground process group is ours. */
export function ownsTerminalForeground(fd: number): boolean {
  const lib = s();
  return lib.isatty(fd) === 1 && lib.tcgetpgrp(fd) === lib.getpgrp();
}

/** Gives the terminal's foreground back to pause's own group. */
export function reclaimTerminalForeground(fd: number): Errno {
  const lib = s();
  return lib.tcsetpgrp(fd, lib.getpgrp()) === 0 ? 0 : errno();
}

export interface SpawnRequest {
  /** argv[0] is looked up in PATH as execvp(3) does. */
  readonly argv: readonly string[];
  /** Descriptors the child gets at the same numbers (Node marks even stdio close-on-exec). */
  readonly inheritFds: readonly number[];
  /** Every descriptor from this number up is closed in the child, whatever its flags. */
  readonly closeFrom: number;
  /** Make the child's group the foreground group of the terminal on this fd. */
  readonly foregroundFd: number | null;
}

export type SpawnResult = { ok: true; pid: number } | { ok: false; errno: Errno; step: string };

/**
 * posix_spawnp with a clean slate: the child leads its own process group, has
 * an empty signal mask and every signal at its default disposition (Node
 * ignores SIGPIPE and SIGXFSZ, pause ignores SIGTTIN and SIGTTOU, and blocked
 * or ignored signals survive exec), and keeps exactly the descriptors asked for.
 * Its environment is the `environ` pause was started with, byte for byte.
 */
export function spawn(request: SpawnRequest): SpawnResult {
  const lib = s();
  const attr = Buffer.alloc(SPAWNATTR_BYTES);
  const actions = Buffer.alloc(FILE_ACTIONS_BYTES);
  const fail = (errno: Errno, step: string): SpawnResult => ({ ok: false, errno, step });
  let error = lib.posix_spawnattr_init(attr) || lib.posix_spawn_file_actions_init(actions);
  if (error) return fail(error, 'posix_spawn setup');
  try {
    const emptyMask = sigset([]);
    // Every signal 1..64 back to SIG_DFL, glibc's internal 32 and 33 included:
    // posix_spawn sets whatever is not in this set to SIG_IGN in the child,
    // where it would outlive exec.
    const allSignals = sigset(ALL_SIGNALS);
    error = lib.posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
      || lib.posix_spawnattr_setpgroup(attr, 0)
      || lib.posix_spawnattr_setsigmask(attr, emptyMask)
      || lib.posix_spawnattr_setsigdefault(attr, allSignals);
    if (error) return fail(error, 'posix_spawnattr');
    // dup2(fd, fd) in the child clears FD_CLOEXEC on fd: the way to hand over
    // a descriptor that Node marked close-on-exec.
    for (const fd of request.inheritFds) {
      error = lib.posix_spawn_file_actions_adddup2(actions, fd, fd);
      if (error) return fail(error, `passing descriptor ${fd}`);
    }
    error = lib.posix_spawn_file_actions_addclosefrom_np(actions, request.closeFrom);
    if (error) return fail(error, 'posix_spawn_file_actions_addclosefrom_np');
    if (request.foregroundFd !== null) {
      error = lib.posix_spawn_file_actions_addtcsetpgrp_np(actions, request.foregroundFd);
      if (error) return fail(error, 'posix_spawn_file_actions_addtcsetpgrp_np');
    }
    const strings = request.argv.map((arg) => Buffer.from(`${arg}\0`));
    const argv = Buffer.alloc((strings.length + 1) * POINTER_BYTES);
    strings.forEach((str, i) => argv.writeBigUInt64LE(ffi.getRawPointer(str), i * POINTER_BYTES));
    const pid = Buffer.alloc(4);
    error = lib.posix_spawnp(pid, strings[0] ?? null, actions, attr, argv, environ());
    // `strings` must stay reachable until here: argv holds raw pointers into them.
    strings.length = 0;
    return error ? fail(error, 'exec') : { ok: true, pid: pid.readInt32LE(0) };
  } finally {
    lib.posix_spawn_file_actions_destroy(actions);
    lib.posix_spawnattr_destroy(attr);
  }
}

/** The value of glibc's `char **environ`. */
function environ(): bigint {
  return ffi.getUint64(core.lib.getSymbol('environ'));
}
