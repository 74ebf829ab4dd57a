// npm run build [-- --arch x64|arm64] [--entry FILE --out FILE]
//
// Bundles src/ into one CommonJS script with esbuild, then injects it into a
// stripped copy of the pinned Node binary with `node --build-sea`, giving one
// self-contained executable. Strip before injecting: stripping after
// corrupts the injected blob. Fails loudly, with what to do, when a piece is missing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { addStubs } from './entry-stub.ts';
import { gitCommit } from './git-commit.ts';
import { SEA_EXEC_ARGV } from './sea-flags.ts';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  optionalDependencies: Record<string, string>;
};

const { values } = parseArgs({
  options: {
    arch: { type: 'string', default: hostArch() },
    entry: { type: 'string', default: 'src/main.ts' },
    out: { type: 'string' },
  },
});
const arch = values.arch;
if (arch !== 'x64' && arch !== 'arm64') die(`unsupported --arch '${arch}': use x64 or arm64`);
const out = resolve(root, values.out ?? (arch === hostArch() ? 'dist/pause' : `dist/pause-${arch}`));
const work = join(root, 'build', arch);
mkdirSync(work, { recursive: true });
mkdirSync(dirname(out), { recursive: true });

function die(message: string): never {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

/** The npm registry package that ships the pinned Node for `arch`, and its exact version. */
const nodePackage = `node-linux-${arch}`;
const nodeVersion = pkg.optionalDependencies[nodePackage] ?? die(`package.json pins no ${nodePackage}`);

function run(file: string, args: string[]): void {
  try {
    execFileSync(file, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (error) {
    die(`${file} ${args.join(' ')} failed: ${(error as Error).message}`);
  }
}

/** package-lock.json's integrity for `nodePackage` ("sha512-BASE64"): what npm ci checks, and what a fetched tarball must match. */
function lockedIntegrity(): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; integrity?: string }> };
  const entry = lock.packages[`node_modules/${nodePackage}`];
  if (entry?.version !== nodeVersion || !entry.integrity?.startsWith('sha512-')) die(`package-lock.json has no sha512 integrity for ${nodePackage}@${nodeVersion}: run npm install`);
  return entry.integrity;
}

/** The pinned Node binary for `arch`, from the npm registry package node-linux-<arch>. */
function pinnedNode(): string {
  const installed = join(root, 'node_modules', nodePackage, 'bin', 'node');
  if (existsSync(installed)) return installed;
  // npm installs only the package for the machine's own processor; fetch the
  // other one from the same registry for a cross build. npm pack checks the
  // tarball against the registry's metadata, not against package-lock.json:
  // the lock's integrity is checked here, and recorded beside what it unpacked.
  const integrity = lockedIntegrity();
  const unpacked = join(work, 'package', 'bin', 'node');
  const verified = join(work, 'package', '.integrity');
  if (!existsSync(unpacked) || !existsSync(verified) || readFileSync(verified, 'utf8') !== integrity) {
    const tarball = join(work, execFileSync('npm', ['pack', `${nodePackage}@${nodeVersion}`, '--pack-destination', work, '--silent'], { encoding: 'utf8' }).trim());
    const found = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
    if (found !== integrity) die(`${nodePackage}@${nodeVersion} from the registry is ${found}, but package-lock.json says ${integrity}: not using it`);
    rmSync(join(work, 'package'), { recursive: true, force: true });
    run('tar', ['-xzf', tarball, '-C', work]);
    writeFileSync(verified, integrity);
  }
  if (!existsSync(unpacked)) die(`${nodePackage}@${nodeVersion} has no bin/node`);
  return unpacked;
}

/** A stripped copy of the Node binary, made once per source binary. */
function strippedNode(source: string): string {
  const target = join(work, `node-${nodeVersion}-stripped`);
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(source).mtimeMs) return target;
  const strip = arch === hostArch() ? 'strip' : `${arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu-strip`;
  try {
    execFileSync(strip, ['--version'], { stdio: 'ignore' });
  } catch {
    die(`'${strip}' not found: install binutils${arch === hostArch() ? '' : `-${arch === 'arm64' ? 'aarch64' : 'x86-64'}-linux-gnu`} (apt-get install ...)`);
  }
  const temporary = `${target}.${process.pid}.tmp`;
  copyFileSync(source, temporary);
  run(strip, ['--strip-all', temporary]);
  chmodSync(temporary, 0o755);
  renameSync(temporary, target);
  return target;
}

// The image build has no .git: it passes the commit in (Dockerfile, ARG PAUSE_COMMIT).
const commit = process.env['PAUSE_COMMIT'] || gitCommit(root);
const node = pinnedNode();
const base = strippedNode(node);
// Per output, so that builds of different executables may run side by side.
const staging = join(work, basename(out));
mkdirSync(staging, { recursive: true });
const bundle = join(staging, 'bundle.cjs');
await build({
  entryPoints: [resolve(root, values.entry)],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node26',
  minify: true,
  legalComments: 'none',
  define: { __PAUSE_VERSION__: JSON.stringify(pkg.version), __PAUSE_COMMIT__: JSON.stringify(commit) },
  logLevel: 'warning',
});
const seaConfig = join(staging, 'sea-config.json');
const outTemporary = `${out}.${process.pid}.tmp`;
writeFileSync(seaConfig, JSON.stringify({
  main: bundle,
  // Written aside and renamed over the old one: a running dist/pause keeps its inode.
  output: outTemporary,
  executable: base,
  disableExperimentalSEAWarning: true,
  // V8's code cache is made by the building Node; it is only valid for the same processor.
  useCodeCache: arch === hostArch(),
  execArgv: SEA_EXEC_ARGV,
  // NODE_OPTIONS in a container's environment is meant for its application.
  execArgvExtension: 'none',
}, null, 2));
// V8 accepts a code cache only from a V8 that ran with the same flags
// (--jitless and --single-threaded change them): made by a Node started
// without the executable's execArgv, the cache was rejected at every start
// and each function compiled from source (bench/results/tuning.md).
// --random-seed: V8 seeds its string hashes from it, and the code cache holds
// them; with a random seed two builds of one source differ in ~70,000 bytes.
// Unlike --hash-seed it is not among the flags V8 compares (a cache made with
// --hash-seed is rejected by the executable: vm.Script's cachedDataRejected).
run(process.execPath, [...SEA_EXEC_ARGV, '--random-seed=1', '--build-sea', seaConfig]);
// Last, on the finished file: Node must start without the environment,
// which belongs to the command (scripts/entry-stub.ts); init mode's native
// forwarding code goes beside it (scripts/native-forwarder.ts).
try {
  addStubs(outTemporary);
} catch (error) {
  die((error as Error).message);
}
chmodSync(outTemporary, 0o755);
renameSync(outTemporary, out);
process.stdout.write(`built ${out} (${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${arch}, node v${nodeVersion}, ${commit ? `git ${commit}` : 'no git commit'})\n`);
