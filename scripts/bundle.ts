// npm run bundle [-- --arch x64|arm64] [--executable FILE] [--out DIR]
//
// Makes the relocatable bundle: one directory, meant to be at /pause.ts in any
// image, holding the executable (`pause`) and, in `lib/`, exactly the loader
// and libraries it loads (scripts/elf.ts), with the executable's program
// interpreter and library search path rewritten (patchelf) to point there.
// Without --executable it builds one first (scripts/build.ts, same --arch).
//
// Why these choices (docs/image.md, "The bundle"):
// - the interpreter is an absolute path: the kernel opens PT_INTERP as written,
//   relative paths against the caller's working directory, never against the
//   executable's; so the bundle works at /pause.ts and nowhere else;
// - the search path is DT_RPATH, not DT_RUNPATH: glibc searches DT_RPATH before
//   LD_LIBRARY_PATH and DT_RUNPATH after it, so with RUNPATH a user's
//   LD_LIBRARY_PATH could hand pause the image's (or broken) libraries;
// - an absolute path, not $ORIGIN: glibc finds $ORIGIN of the executable through
//   /proc/self/exe, and pause must start where /proc is not mounted.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadsOf } from './elf.ts';

/** Where the bundle must be inside a container. */
export const BUNDLE_PATH = '/pause.ts';

/**
 * Writes the bundle for `executable` to `dir` (replaced whole if it exists).
 * Returns the files it holds, relative to `dir`.
 */
export function makeBundle(executable: string, dir: string): string[] {
  const loads = loadsOf(executable);
  const staging = `${dir}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(join(staging, 'lib'), { recursive: true });
  const files: string[] = [];
  const place = (source: string, target: string, mode: number): void => {
    copyFileSync(source, join(staging, target)); // follows symlinks: the real file under its soname
    chmodSync(join(staging, target), mode);
    files.push(target);
  };
  place(executable, 'pause', 0o755);
  const loader = `lib/${basename(loads.interpreter)}`;
  place(loads.interpreter, loader, 0o755);
  for (const { soname, path } of loads.libraries) place(path, `lib/${soname}`, 0o644);
  execFileSync('patchelf', [
    '--set-interpreter', `${BUNDLE_PATH}/${loader}`,
    '--force-rpath', '--set-rpath', `${BUNDLE_PATH}/lib`,
    join(staging, 'pause'),
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(staging, dir);
  return files;
}

function main(): void {
  const root = resolve(import.meta.dirname, '..');
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: hostArch() },
      executable: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const suffix = values.arch === hostArch() ? '' : `-${values.arch}`;
  let executable = values.executable;
  if (!executable) {
    executable = join(root, 'dist', `pause${suffix}`);
    execFileSync(process.execPath, [join(root, 'node_modules/tsx/dist/cli.mjs'), join(root, 'scripts/build.ts'), '--arch', values.arch, '--out', executable],
      { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  if (!existsSync(executable)) throw new Error(`${executable} does not exist: build it first (npm run build)`);
  const out = resolve(root, values.out ?? join('dist', `pause.ts${suffix}`));
  const files = makeBundle(executable, out);
  process.stdout.write(`bundle: ${out} (${files.join(', ')}); it must be at ${BUNDLE_PATH} inside a container\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  // A missing tool or library is told in one line, not as a stack trace.
  process.on('uncaughtException', (error) => {
    process.stderr.write(`bundle: ${error.message.split('\n')[0]}\n`);
    process.exit(1);
  });
  main();
}
