// podman for the tests: its configuration on these machines, a glibc image
// built locally (no registry is reachable), and containers removed after use.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { copyLoadsInto } from '../../scripts/elf.ts';

const CONTAINERS_CONF = '/etc/containers/containers.conf';

/** Settings podman 4.3 from Debian needs here: table → key → value (TOML). */
const REQUIRED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // Its default raises RLIMIT_NOFILE/NPROC, which is not permitted on these machines.
  containers: { default_ulimits: '[]' },
  // crun 1.8 refuses the hybrid cgroup layout: "cgroups in hybrid mode not supported".
  engine: { runtime: '"runc"' },
};

/**
 * Adds to `text` (a containers.conf) each required key its table lacks, right
 * under the table's header (or in a new table at the end). Keys already set,
 * to whatever value, are left alone. Pure.
 */
export function withRequiredSettings(text: string): string {
  const lines = text.split('\n');
  for (const [table, keys] of Object.entries(REQUIRED)) {
    const header = lines.findIndex((line) => line.trim() === `[${table}]`);
    const next = header === -1 ? -1 : lines.findIndex((line, i) => i > header && /^\s*\[/.test(line));
    const body = header === -1 ? [] : lines.slice(header + 1, next === -1 ? lines.length : next);
    const missing = Object.entries(keys)
      .filter(([key]) => !body.some((line) => new RegExp(`^\\s*${key}\\s*=`).test(line)))
      .map(([key, value]) => `${key} = ${value}`);
    if (missing.length === 0) continue;
    if (header === -1) {
      while (lines.at(-1)?.trim() === '') lines.pop();
      lines.push('', `[${table}]`, ...missing);
    } else {
      lines.splice(header + 1, 0, ...missing);
    }
  }
  return `${lines.join('\n').replace(/^\n+/, '').replace(/\n*$/, '')}\n`;
}

/**
 * Makes /etc/containers/containers.conf hold what podman needs here: creates
 * it if missing, adds only missing keys otherwise. Idempotent; written through
 * a rename so that a concurrent reader never sees half a file.
 */
export function ensureContainersConf(path = CONTAINERS_CONF): void {
  const before = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const after = withRequiredSettings(before);
  if (after === before) return;
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, after);
  renameSync(temporary, path);
}

/** Runs podman; returns its stdout, throws with its stderr when it fails. */
export function podman(args: readonly string[], timeoutMs = 120_000): string {
  const result = spawnSync('podman', args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0) throw new Error(`podman ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr}`);
  return result.stdout;
}

/** Runs podman and ignores the outcome: for removing what may already be gone. */
export function podmanQuiet(args: readonly string[]): void {
  spawnSync('podman', args, { stdio: 'ignore', timeout: 60_000 });
}

/** Busybox applets linked into the image. */
const APPLETS = ['sh', 'sleep', 'cat', 'echo', 'kill', 'ps', 'ls', 'tr', 'true', 'stty'];

/**
 * Imports an image holding a static busybox and the shared libraries (and
 * loader) that `executable` is linked against (scripts/elf.ts): enough
 * for a glibc program such as a Node SEA mounted into it (podman --init-path).
 */
export function importGlibcBusyboxImage(tag: string, executable: string, busybox = '/bin/busybox'): void {
  const root = mkdtempSync(join(tmpdir(), 'glibc-busybox-'));
  try {
    for (const dir of ['bin', 'proc', 'sys', 'dev', 'etc', 'tmp', 'run']) mkdirSync(join(root, dir));
    copyFileSync(busybox, join(root, 'bin', 'busybox'));
    for (const applet of APPLETS) symlinkSync('busybox', join(root, 'bin', applet));
    copyLoadsInto(executable, root);
    const tarball = join(root, '..', `${basename(root)}.tar`);
    try {
      execFileSync('tar', ['-C', root, '-cf', tarball, '.']);
      podman(['import', '--quiet', tarball, tag]);
    } finally {
      rmSync(tarball, { force: true });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
