// What a dynamically linked executable loads, read from its ELF (readelf): its
// program interpreter, then every DT_NEEDED library, recursively, found in the
// multiarch directories of the ELF's own machine. Reading the ELF instead of
// running ldd works for a cross-built arm64 executable too; nothing is listed by hand.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface Loads {
  /** Debian's multiarch triplet of the ELF's machine: x86_64-linux-gnu or aarch64-linux-gnu. */
  readonly multiarch: string;
  /** The program interpreter, as the ELF names it (PT_INTERP). */
  readonly interpreter: string;
  /** Every shared library it needs, but the interpreter: soname and the file on this machine. */
  readonly libraries: readonly { readonly soname: string; readonly path: string }[];
}

function readelf(args: string[], file: string): string {
  return execFileSync('readelf', ['--wide', ...args, file], { encoding: 'utf8' });
}

function triplet(file: string): string {
  const machine = /^\s*Machine:\s*(.*)$/m.exec(readelf(['--file-header'], file))?.[1] ?? '';
  if (machine.includes('X86-64')) return 'x86_64-linux-gnu';
  if (machine.includes('AArch64')) return 'aarch64-linux-gnu';
  throw new Error(`${file}: unsupported machine '${machine}'`);
}

export function interpreterOf(file: string): string {
  const path = /\[Requesting program interpreter: ([^\]]+)\]/.exec(readelf(['--program-headers'], file))?.[1];
  if (!path) throw new Error(`${file} names no program interpreter: not a dynamically linked executable`);
  return path;
}

function needed(file: string): string[] {
  return [...readelf(['--dynamic'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1] ?? '');
}

/** The interpreter and libraries `executable` loads, from this machine's multiarch directories. */
export function loadsOf(executable: string): Loads {
  const multiarch = triplet(executable);
  const searchDirs = [`/lib/${multiarch}`, `/usr/lib/${multiarch}`, '/lib', '/usr/lib'];
  const locate = (soname: string): string => {
    const found = searchDirs.map((dir) => join(dir, soname)).find((path) => existsSync(path));
    if (!found) throw new Error(`${soname} not found in ${searchDirs.join(', ')} (install its ${multiarch} package)`);
    return found;
  };
  const interpreter = interpreterOf(executable);
  const libraries: { soname: string; path: string }[] = [];
  const seen = new Set<string>();
  const queue = needed(executable);
  while (queue.length) {
    const soname = queue.shift()!;
    if (seen.has(soname)) continue;
    seen.add(soname);
    // libc names the loader too; it is the interpreter, placed on its own.
    if (soname === basename(interpreter)) continue;
    const path = locate(soname);
    libraries.push({ soname, path });
    queue.push(...needed(path));
  }
  return { multiarch, interpreter, libraries };
}

/**
 * Copies the interpreter and every library `executable` loads into `root`,
 * each at the path the loader will look for it (links followed: the real
 * file under the name asked for): enough for it to run in a root of its own.
 */
export function copyLoadsInto(executable: string, root: string): void {
  const { interpreter, libraries } = loadsOf(executable);
  for (const file of [interpreter, ...libraries.map((library) => library.path)]) {
    mkdirSync(join(root, dirname(file)), { recursive: true });
    copyFileSync(file, join(root, file));
  }
}
