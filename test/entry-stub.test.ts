// scripts/entry-stub.ts on small ELF files made here: where the stub and the
// native forwarding code go, what their branches and address loads reach, and
// the files it refuses. That the stub runs and hides the environment is
// test/init-environment.test.ts's (x86-64, the built executable) and
// test/image/arm64.test.ts's (AArch64 under qemu-user); that the forwarding
// code forwards is every init test's, and test/init-native-forwarding.test.ts's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addStubs } from '../scripts/entry-stub.ts';
import { x86_64 as x86_64Code } from '../scripts/native-forwarder.ts';
import { CODE, HEADER_HANDLER, HEADER_MAGIC, HEADER_SLOT, HEADER_THREAD, MAGIC } from '../src/forward-block.ts';

const dir = mkdtempSync(join(tmpdir(), 'entry-stub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = 0x400000n;
const TEXT_OFFSET = 0x1000;
const TEXT_SIZE = 0x123;
const NEXT_OFFSET = 0x2000;
const ENTRY = BASE + BigInt(TEXT_OFFSET) + 0x40n;

/** An ELF64 header, two program headers (text R+X, then data R+W a page on), and their bytes. */
function elf(machine: number, fill = 0): Buffer {
  const file = Buffer.alloc(NEXT_OFFSET + 0x100);
  file.writeUInt32BE(0x7f454c46, 0);
  file[4] = 2;
  file[5] = 1;
  file.writeUInt16LE(machine, 0x12);
  file.writeBigUInt64LE(ENTRY, 0x18);
  file.writeBigUInt64LE(0x40n, 0x20);
  file.writeUInt16LE(56, 0x36);
  file.writeUInt16LE(2, 0x38);
  const segment = (at: number, flags: number, offset: number, size: number) => {
    file.writeUInt32LE(1, at);
    file.writeUInt32LE(flags, at + 4);
    file.writeBigUInt64LE(BigInt(offset), at + 8);
    file.writeBigUInt64LE(BASE + BigInt(offset), at + 16);
    file.writeBigUInt64LE(BASE + BigInt(offset), at + 24);
    file.writeBigUInt64LE(BigInt(size), at + 32);
    file.writeBigUInt64LE(BigInt(size), at + 40);
  };
  segment(0x40, 5, TEXT_OFFSET, TEXT_SIZE);
  segment(0x40 + 56, 6, NEXT_OFFSET, 0x100);
  file.fill(0xcc, TEXT_OFFSET, TEXT_OFFSET + TEXT_SIZE);
  file.fill(fill, TEXT_OFFSET + TEXT_SIZE, NEXT_OFFSET);
  return file;
}

function patched(name: string, file: Buffer): Buffer {
  const path = join(dir, name);
  writeFileSync(path, file);
  addStubs(path);
  return readFileSync(path);
}

/** The stub's address, at the first 16-byte boundary after the text segment's bytes. */
const STUB = BASE + BigInt((TEXT_OFFSET + TEXT_SIZE + 15) & ~15);
const stubOffset = (TEXT_OFFSET + TEXT_SIZE + 15) & ~15;

describe('the entry stub', () => {
  it('x86-64: after the text segment, which grows to hold it; ends with a jmp to the old entry', () => {
    const out = patched('x86-64', elf(62));
    expect(out.readBigUInt64LE(0x18)).toBe(STUB);
    const code = out.subarray(stubOffset, stubOffset + 25);
    expect([...code.subarray(0, 20)]).toEqual([0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x04, 0x24, 0x48, 0x8d, 0x44, 0xc4, 0x10, 0x48, 0xc7, 0x00, 0, 0, 0, 0]);
    expect(code[20]).toBe(0xe9);
    expect(STUB + 25n + BigInt(code.readInt32LE(21))).toBe(ENTRY);
    // The segment ends where the forwarding code after the stub ends.
    const end = BigInt(stubOffset + CODE + x86_64Code(0n, 0n).code.length - TEXT_OFFSET);
    expect(out.readBigUInt64LE(0x40 + 32)).toBe(end);
    expect(out.readBigUInt64LE(0x40 + 40)).toBe(end);
  });

  it('AArch64: bti, the store of NULL into envp[0], and a b to the old entry', () => {
    const out = patched('aarch64', elf(183));
    expect(out.readBigUInt64LE(0x18)).toBe(STUB);
    const words = Array.from({ length: 6 }, (_, i) => out.readUInt32LE(stubOffset + 4 * i));
    expect(words.slice(0, 5)).toEqual([0xd50324df, 0xf94003e9, 0x910003ea, 0x8b090d4a, 0xf900095f]);
    const branch = words[5]!;
    expect(branch >>> 26).toBe(0b000101);
    const offset = BigInt.asIntN(26, BigInt(branch & 0x3ffffff)) * 4n;
    expect(STUB + 20n + offset).toBe(ENTRY);
  });

  it('only the entry, the two segments\' sizes, and the stub\'s and code\'s bytes change', () => {
    const before = elf(62);
    const out = patched('unchanged', before);
    const changed = [...out.keys()].filter((i) => out[i] !== before[i]);
    const codeEnd = stubOffset + Number(out.readBigUInt64LE(0x40 + 32)) - (stubOffset - TEXT_OFFSET);
    const allowed = (i: number) => (i >= 0x18 && i < 0x20) || (i >= 0x40 + 32 && i < 0x40 + 48) || (i >= 0x40 + 56 + 40 && i < 0x40 + 56 + 48)
      || (i >= stubOffset && i < codeEnd);
    expect(changed.filter((i) => !allowed(i))).toEqual([]);
  });

  it('refuses padding that is not zeros, and a machine it has no stub for', () => {
    expect(() => patched('not-padding', elf(62, 0x90))).toThrow(/no room for the \d+ bytes of the entry stub and native forwarding code/);
    expect(() => patched('riscv', elf(243))).toThrow(/no entry stub for ELF machine 243/);
  });
});

/** The header after the stub: the slot, thread and handler addresses it names. */
function header(out: Buffer): { slot: bigint; thread: bigint; handler: bigint } {
  expect(out.subarray(stubOffset + HEADER_MAGIC, stubOffset + HEADER_MAGIC + 8)).toEqual(MAGIC);
  const at = (offset: number) => STUB + out.readBigInt64LE(stubOffset + offset);
  return { slot: at(HEADER_SLOT), thread: at(HEADER_THREAD), handler: at(HEADER_HANDLER) };
}

/** Where the data segment (R+W, at NEXT_OFFSET, 0x100 bytes) ends, and so where the slot goes. */
const DATA_END = BASE + BigInt(NEXT_OFFSET) + 0x100n;

describe('the native forwarding code', () => {
  it('its block address goes in a word after the writable segment, whose memory size grows to cover it', () => {
    const out = patched('slot', elf(62));
    const { slot } = header(out);
    expect(slot).toBe(DATA_END);
    expect(out.readBigUInt64LE(0x40 + 56 + 40)).toBe(0x108n); // memsz
    expect(out.readBigUInt64LE(0x40 + 56 + 32)).toBe(0x100n); // filesz: the file's bytes are not touched
  });

  it('x86-64: thread and handler load the block from the slot (rip-relative), and the handler starts with endbr64', () => {
    const out = patched('x86-64-code', elf(62));
    const { slot, thread, handler } = header(out);
    const offset = (address: bigint) => stubOffset + Number(address - STUB);
    expect(thread).toBe(STUB + BigInt(CODE));
    // mov rbx, [rip + disp32] in the thread; mov rdx, [rip + disp32] in the handler.
    expect([...out.subarray(offset(thread) + 5, offset(thread) + 8)]).toEqual([0x48, 0x8b, 0x1d]);
    expect(thread + 12n + BigInt(out.readInt32LE(offset(thread) + 8))).toBe(slot);
    expect([...out.subarray(offset(handler), offset(handler) + 4)]).toEqual([0xf3, 0x0f, 0x1e, 0xfa]);
    expect([...out.subarray(offset(handler) + 7, offset(handler) + 10)]).toEqual([0x48, 0x8b, 0x15]);
    expect(handler + 14n + BigInt(out.readInt32LE(offset(handler) + 10))).toBe(slot);
  });

  it('AArch64: thread and handler load the block from the slot (adrp and ldr), and both start with bti c', () => {
    const out = patched('aarch64-code', elf(183));
    const { slot, thread, handler } = header(out);
    const word = (address: bigint) => out.readUInt32LE(stubOffset + Number(address - STUB));
    /** What adrp at `at` and the ldr after it address. */
    const loaded = (at: bigint): bigint => {
      const adrp = word(at);
      const ldr = word(at + 4n);
      expect((adrp & 0x9f000000) >>> 0).toBe(0x90000000);
      expect((ldr & 0xffc00000) >>> 0).toBe(0xf9400000);
      const pages = BigInt.asIntN(21, BigInt(((adrp >>> 5) & 0x7ffff) << 2 | ((adrp >>> 29) & 3)));
      return ((at >> 12n) + pages << 12n) + BigInt(((ldr >>> 10) & 0xfff) * 8);
    };
    expect(word(thread)).toBe(0xd503245f);
    expect(word(handler)).toBe(0xd503245f);
    expect(loaded(thread + 0x10n)).toBe(slot);
    expect(loaded(handler + 4n)).toBe(slot);
  });

  it('refuses an executable whose writable segment ends at a page\'s end (no room for the slot)', () => {
    const file = elf(62);
    file.writeBigUInt64LE(0x1000n, 0x40 + 56 + 32);
    file.writeBigUInt64LE(0x1000n, 0x40 + 56 + 40);
    expect(() => patched('no-slot', file)).toThrow(/no room for the native forwarding code's block address/);
  });
});
