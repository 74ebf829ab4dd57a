// tsx scripts/rootfs.ts EXECUTABLE DIR
//
// Lays out DIR as the root of a `FROM scratch` image: EXECUTABLE as /pause,
// its program interpreter at the path the ELF names, and every shared library
// it needs, found by following DT_NEEDED entries (readelf) through the
// multiarch directories of the ELF's own machine. Reading the ELF instead of
// running ldd works for a cross-built arm64 executable too; nothing is listed by hand.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const [executable, rootfs] = process.argv.slice(2);
if (!executable || !rootfs) {
  process.stderr.write('usage: rootfs.ts EXECUTABLE DIR\n');
  process.exit(2);
}
// What goes wrong here (no readelf, a library not installed) is told in one
// line of the image build's log, not as a stack trace.
process.on('uncaughtException', (error) => {
  process.stderr.write(`rootfs: ${error.message.split('\n')[0]}\n`);
  process.exit(1);
});

function readelf(args: string[], file: string): string {
  return execFileSync('readelf', ['--wide', ...args, file], { encoding: 'utf8' });
}

/** Debian's multiarch triplet for the ELF's machine. */
function triplet(file: string): string {
  const machine = /^\s*Machine:\s*(.*)$/m.exec(readelf(['--file-header'], file))?.[1] ?? '';
  if (machine.includes('X86-64')) return 'x86_64-linux-gnu';
  if (machine.includes('AArch64')) return 'aarch64-linux-gnu';
  throw new Error(`${file}: unsupported machine '${machine}'`);
}

function interpreter(file: string): string {
  const path = /\[Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['--program-headers'], file))?.[1];
  if (!path) throw new Error(`${file} names no program interpreter: not a dynamically linked executable`);
  return path;
}

function needed(file: string): string[] {
  return [...readelf(['--dynamic'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] ?? '');
}

const multiarch = triplet(executable);
const searchDirs = [`/lib/${multiarch}`, `/usr/lib/${multiarch}`, '/lib', '/usr/lib'];

function locate(soname: string): string {
  const found = searchDirs.map((dir) => join(dir, soname)).find((path) => existsSync(path));
  if (!found) throw new Error(`${soname} not found in ${searchDirs.join(', ')} (install its ${multiarch} package)`);
  return found;
}

/** Copies a file's contents (following symlinks) to the same path under rootfs. */
function place(source: string, target: string, mode: number): void {
  const destination = join(rootfs!, target);
  mkdirSync(dirname(destination), { recursive: true });
  copyFileSync(source, destination);
  chmodSync(destination, mode);
  process.stdout.write(`rootfs: ${target}\n`);
}

place(executable, '/pause', 0o755);
const loader = interpreter(executable);
// The loader resolves libraries from its built-in system directories (there is
// no ld.so.cache in the image): Debian's loader searches /lib/<triplet> first.
place(loader, loader, 0o755);
const seen = new Set<string>();
const queue = needed(executable);
while (queue.length) {
  const soname = queue.shift()!;
  if (seen.has(soname)) continue;
  seen.add(soname);
  // libc names the loader too; it is already in place under its ELF path.
  if (soname === basename(loader)) continue;
  const path = locate(soname);
  place(path, `/lib/${multiarch}/${soname}`, 0o644);
  queue.push(...needed(path));
}
