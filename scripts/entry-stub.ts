// Hides the environment from Node: a few instructions put in front of the
// executable's ELF entry point (`_start`), written into the executable after
// `node --build-sea` has made it.
//
// Why: Node and its OpenSSL read many variables while they start (NODE_*,
// OPENSSL_*, …), all before pause's first line runs, and some of them break
// pause (docs/design.md, "The environment is the command's"). No Node flag
// turns most of them off. The stub empties the environment glibc hands to the
// program: before `_start` runs it stores NULL in envp[0] on the initial
// stack, the array glibc's `environ` points to, and jumps on to `_start`.
// glibc runs the program's own constructors (OpenSSL's CPU probe among them)
// and `main` after `_start`, so Node starts with an empty environment. The
// strings stay where the kernel put them: pause reads them from there
// (src/kernel-environment.ts) and gives them to the command unchanged.
// Only the dynamic loader, which runs before `_start`, still sees them.
//
// Where: in the zero padding between the end of the executable segment's
// bytes and the page the next segment starts at, which the segment is then
// extended to cover. Nothing moves: every other byte of the file is kept.
//
// Right after it, at the offsets src/forward-block.ts names, goes init mode's
// native forwarding code (scripts/native-forwarder.ts), and the word it reads
// the address of its block from: 8 bytes past the end of the writable
// segment, in the zero-filled rest of its last page, which the segment's
// memory size is extended to cover (its file bytes are left as they are).
import { readFileSync, writeFileSync } from 'node:fs';
import { CODE, HEADER_HANDLER, HEADER_MAGIC, HEADER_SLOT, HEADER_THREAD, MAGIC, STUB_ROOM } from '../src/forward-block.ts';
import * as nativeForwarder from './native-forwarder.ts';
import type { NativeCode } from './native-forwarder.ts';

/** <elf.h>: Elf64_Ehdr field offsets, machines, and Elf64_Phdr's. */
const E_IDENT_CLASS = 4; // 2: ELFCLASS64
const E_IDENT_DATA = 5; // 1: ELFDATA2LSB
const E_MACHINE = 0x12;
const E_ENTRY = 0x18;
const E_PHOFF = 0x20;
const E_PHENTSIZE = 0x36;
const E_PHNUM = 0x38;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;
const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const PAGE = 0x1000n;
const P_FLAGS = 4;
const P_OFFSET = 8;
const P_VADDR = 16;
const P_FILESZ = 32;
const P_MEMSZ = 40;
/** Where the stub starts: aligned as compilers align functions. */
const STUB_ALIGN = 16;

/**
 * The stub for a machine, given where it lies and where `_start` is.
 * At the entry point the stack pointer points at argc, then argv[0..argc-1],
 * NULL, envp[0], …: envp[0] is at sp + 8 * argc + 16.
 */
type Stub = (at: bigint, entry: bigint) => Buffer;

function x86_64(at: bigint, entry: bigint): Buffer {
  const code = Buffer.from([
    0xf3, 0x0f, 0x1e, 0xfa, // endbr64: a landing pad for the loader's indirect jump (a no-op without CET)
    0x48, 0x8b, 0x04, 0x24, // mov rax, [rsp]                 ; argc
    0x48, 0x8d, 0x44, 0xc4, 0x10, // lea rax, [rsp + rax*8 + 16] ; &envp[0]
    0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x00, // mov qword [rax], 0 ; envp[0] = NULL
    0xe9, 0, 0, 0, 0, // jmp _start (rel32). rdx (the loader's fini function) is untouched.
  ]);
  const next = at + BigInt(code.length);
  code.writeInt32LE(Number(entry - next), code.length - 4);
  return code;
}

function aarch64(at: bigint, entry: bigint): Buffer {
  const words = [
    0xd50324df, // bti jc: a landing pad for the loader's `br` on BTI-guarded pages (a no-op otherwise)
    0xf94003e9, // ldr x9, [sp]            ; argc
    0x910003ea, // mov x10, sp
    0x8b090d4a, // add x10, x10, x9, lsl #3
    0xf900095f, // str xzr, [x10, #16]     ; envp[0] = NULL
    0x14000000, // b _start (imm26, in words). x0 (the loader's fini function) is untouched.
  ];
  const branchAt = at + BigInt((words.length - 1) * 4);
  const offset = (entry - branchAt) / 4n;
  words[words.length - 1]! |= Number(BigInt.asUintN(26, offset));
  const code = Buffer.alloc(words.length * 4);
  words.forEach((word, i) => code.writeUInt32LE(word >>> 0, i * 4));
  return code;
}

/** The native forwarding code for a machine, given where it lies and where its block's address is. */
type Forwarder = (at: bigint, slot: bigint) => NativeCode;

const STUBS: Readonly<Record<number, { stub: Stub; forwarder: Forwarder }>> = {
  [EM_X86_64]: { stub: x86_64, forwarder: nativeForwarder.x86_64 },
  [EM_AARCH64]: { stub: aarch64, forwarder: nativeForwarder.aarch64 },
};

interface Segment { readonly header: number; readonly type: number; readonly flags: number; readonly offset: bigint; readonly vaddr: bigint; readonly filesz: bigint; readonly memsz: bigint }

function segments(elf: Buffer): Segment[] {
  const phoff = Number(elf.readBigUInt64LE(E_PHOFF));
  const phentsize = elf.readUInt16LE(E_PHENTSIZE);
  return Array.from({ length: elf.readUInt16LE(E_PHNUM) }, (_, i) => {
    const header = phoff + i * phentsize;
    return {
      header, type: elf.readUInt32LE(header), flags: elf.readUInt32LE(header + P_FLAGS), offset: elf.readBigUInt64LE(header + P_OFFSET),
      vaddr: elf.readBigUInt64LE(header + P_VADDR), filesz: elf.readBigUInt64LE(header + P_FILESZ), memsz: elf.readBigUInt64LE(header + P_MEMSZ),
    };
  });
}

/**
 * A word for the handler's block address: 8-aligned, past the end of the
 * writable segment but in its last page, which no other segment shares. The
 * loader zero-fills a segment's memory beyond its file bytes to the end of
 * that page; the segment's memory size grows to cover the word.
 */
function slotAfterWritable(file: string, loads: readonly Segment[], elf: Buffer): bigint {
  const writable = loads.filter((s) => (s.flags & PF_W) !== 0);
  const last = writable[writable.length - 1];
  if (!last) throw new Error(`${file}: no writable segment for the native forwarding code's block address`);
  const end = last.vaddr + last.memsz;
  const slot = (end + 7n) & ~7n;
  const pageEnd = (end + PAGE - 1n) & ~(PAGE - 1n);
  const shared = loads.some((s) => s !== last && s.vaddr < pageEnd && s.vaddr + s.memsz > last.vaddr);
  if (slot + 8n > pageEnd || shared) throw new Error(`${file}: no room for the native forwarding code's block address after the writable segment`);
  elf.writeBigUInt64LE(slot + 8n - last.vaddr, last.header + P_MEMSZ);
  return slot;
}

/**
 * Puts the entry stub in front of `file`'s entry point and the native
 * forwarding code after it, in place; throws, saying why, when it cannot.
 */
export function addStubs(file: string): void {
  const elf = readFileSync(file);
  if (elf.readUInt32BE(0) !== 0x7f454c46 || elf[E_IDENT_CLASS] !== 2 || elf[E_IDENT_DATA] !== 1) throw new Error(`${file}: not a little-endian 64-bit ELF`);
  const machine = STUBS[elf.readUInt16LE(E_MACHINE)];
  if (!machine) throw new Error(`${file}: no entry stub for ELF machine ${elf.readUInt16LE(E_MACHINE)}`);
  const entry = elf.readBigUInt64LE(E_ENTRY);
  const loads = segments(elf).filter((s) => s.type === PT_LOAD);
  const text = loads.find((s) => (s.flags & PF_X) !== 0 && entry >= s.vaddr && entry < s.vaddr + s.memsz);
  if (!text || text.filesz !== text.memsz) throw new Error(`${file}: the entry point is not in an executable segment of file bytes`);
  const end = text.offset + text.filesz;
  const at = (end + BigInt(STUB_ALIGN - 1)) & ~BigInt(STUB_ALIGN - 1);
  const vaddr = (offset: bigint) => text.vaddr + (offset - text.offset);
  const stub = machine.stub(vaddr(at), entry);
  if (stub.length > STUB_ROOM) throw new Error(`the ${stub.length}-byte entry stub outgrew its ${STUB_ROOM} bytes (src/forward-block.ts)`);
  const slot = slotAfterWritable(file, loads, elf);
  const forwarder = machine.forwarder(vaddr(at) + BigInt(CODE), slot);
  const code = Buffer.alloc(CODE + forwarder.code.length);
  stub.copy(code, 0);
  MAGIC.copy(code, HEADER_MAGIC);
  code.writeBigInt64LE(slot - vaddr(at), HEADER_SLOT);
  code.writeBigInt64LE(BigInt(CODE + forwarder.thread), HEADER_THREAD);
  code.writeBigInt64LE(BigInt(CODE + forwarder.handler), HEADER_HANDLER);
  forwarder.code.copy(code, CODE);
  const limit = loads.map((s) => s.offset).filter((offset) => offset > text.offset).reduce((a, b) => (b < a ? b : a), BigInt(elf.length));
  const after = at + BigInt(code.length);
  if (after > limit || elf.subarray(Number(end), Number(after)).some((byte) => byte !== 0)) {
    throw new Error(`${file}: no room for the ${code.length} bytes of the entry stub and native forwarding code after the executable segment`);
  }
  code.copy(elf, Number(at));
  elf.writeBigUInt64LE(after - text.offset, text.header + P_FILESZ);
  elf.writeBigUInt64LE(after - text.offset, text.header + P_MEMSZ);
  elf.writeBigUInt64LE(vaddr(at), E_ENTRY);
  writeFileSync(file, elf);
}
