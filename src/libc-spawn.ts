// The init mode's spawn of the command, and the terminal: posix_spawnp with
// the file actions and attributes pause writes itself, through the C library
// functions bound here with src/libc.ts's `lazy` and `optional` (libc.ts is
// the one module that uses node:ffi).
import { kernelEnvironment } from './kernel-environment.ts';
import {
  addressOf, kill, lastErrno, lazy, optional, sigset, waitid, EAGAIN, POINTER_BYTES, SIGSET_BYTES, WNOHANG,
  type Errno, type Pointer,
} from './libc.ts';
import { SIGINFO_BYTES, SIGINFO_PID } from './siginfo.ts';
import { ALL_SIGNALS, SIGCONT } from './signals.ts';

// --- Constants, each with where it comes from (glibc 2.36 headers, Linux UAPI).
/** <bits/waitflags.h>: waitid reports stopped children (and, without WEXITED, only those). */
const WSTOPPED = 2;
/** <bits/types/idtype_t.h> via <sys/wait.h>: waitid's id is a pid. */
const P_PID = 1;
/** <bits/fcntl-linux.h>: read the descriptor flags (FD_CLOEXEC); fails with EBADF when fd is not open. */
const F_GETFD = 1;
/** <spawn.h>: the posix_spawnattr_t flags. */
const POSIX_SPAWN_SETPGROUP = 0x02;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
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

// --- Resolved on first use.
const putenv = lazy<[entry: bigint], number>('putenv', ['pointer'], 'int32');
/** Whether PATH was put back in pause's own environment for posix_spawnp (spawnWith). */
let pathRestored = false;
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
  return tcsetpgrp(fd, getpgrp()) === 0 ? 0 : lastErrno();
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
  // Looked up now rather than at its call, after the command started: see
  // runInit (src/init.ts) on the main thread's work right after the spawn.
  actionsDestroy.resolve();
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
  if (waitid(P_PID, pid, info, WSTOPPED | WNOHANG) === 0 && info.readInt32LE(SIGINFO_PID) === pid) kill(-pid, SIGCONT);
}

/** posix_spawnp itself, argv[0] looked up in PATH. */
function spawnWith(args: readonly string[], actions: Buffer, attr: Buffer): SpawnResult {
  const strings = args.map((arg) => Buffer.from(`${arg}\0`));
  const argv = Buffer.alloc((strings.length + 1) * POINTER_BYTES);
  strings.forEach((str, i) => argv.writeBigUInt64LE(addressOf(str), i * POINTER_BYTES));
  const pid = Buffer.alloc(4);
  const { envp, path } = kernelEnvironment();
  // posix_spawnp looks COMMAND up in the PATH of pause's own environment,
  // which the entry stub emptied: put back, by address, the one execvp would
  // have used (the first). Node reads no PATH.
  if (path !== null && !pathRestored) pathRestored = putenv(path) === 0;
  const error = spawnp(pid, strings[0] ?? null, actions, attr, argv, addressOf(envp));
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

