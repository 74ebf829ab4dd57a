// The environment as the kernel gave it, read from the initial stack through
// src/libc.ts (the one module that uses node:ffi).
import { getauxval, lazy, readMemory, readUint64, symbolAddress, POINTER_BYTES } from './libc.ts';

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
const strlen = lazy<[string: bigint], bigint>('strlen', ['pointer'], 'uint64');

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
  const stack = readUint64(symbolAddress('__libc_stack_end'));
  const argc = Number(readUint64(stack));
  const word = (i: number): bigint => readUint64(stack + BigInt((1 + i) * POINTER_BYTES));
  // argc, argv NULL-terminated, argv[0] the string glibc took the program's name from.
  if (argc < 1 || word(argc) !== 0n || word(0) !== readUint64(symbolAddress('program_invocation_name'))) throw new Error(LAYOUT_ERROR);
  const lastArg = word(argc - 1);
  const start = lastArg + strlen(lastArg) + 1n;
  const { end, pointers } = environmentEnd((j) => word(argc + 1 + j), start);
  const area = end > start ? readMemory(start, Number(end - start)) : Buffer.alloc(0);
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
