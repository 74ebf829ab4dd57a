// npm run build [-- --arch x64|arm64] [--entry FILE --out FILE]
//
// Bundles src/ into one CommonJS script with esbuild, then injects it into a
// stripped copy of the pinned Node binary with `node --build-sea`, giving one
// self-contained executable. Strip before injecting: stripping after
// corrupts the injected blob. Fails loudly, with what to do, when a piece is missing.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { arch as hostArch } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { hideEnvironmentFromNode } from './entry-stub.ts';
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

/** The pinned Node binary for `arch`, from the npm registry package node-linux-<arch>. */
function pinnedNode(): string {
  const installed = join(root, 'node_modules', nodePackage, 'bin', 'node');
  if (existsSync(installed)) return installed;
  // npm installs only the package for the machine's own processor; fetch the
  // other one from the same registry for a cross build.
  const unpacked = join(work, 'package', 'bin', 'node');
  if (!existsSync(unpacked)) {
    const tarball = execFileSync('npm', ['pack', `${nodePackage}@${nodeVersion}`, '--pack-destination', work, '--silent'], { encoding: 'utf8' }).trim();
    run('tar', ['-xzf', join(work, tarball), '-C', work]);
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

/**
 * The commit the executable is built from, for `--version`: HEAD's short
 * hash, with `-dirty` when tracked files differ from it. Read from the local
 * repository, no network. Empty outside a git work tree of this project (an
 * unpacked tarball, the Dockerfile's builder stage, which gets no .git) or
 * without git: the build goes on, and --version prints what -v prints.
 */
function gitCommit(): string {
  const git = (...args: string[]): string =>
    execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    // A tarball unpacked inside some other repository must not take its commit.
    if (realpathSync(git('rev-parse', '--show-toplevel')) !== realpathSync(root)) return '';
    const head = git('rev-parse', '--short=12', 'HEAD');
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}-dirty`;
  } catch {
    return '';
  }
}

const commit = gitCommit();
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
run(process.execPath, [...SEA_EXEC_ARGV, '--build-sea', seaConfig]);
// Last, on the finished file: Node must start without the environment,
// which belongs to the command (scripts/entry-stub.ts).
try {
  hideEnvironmentFromNode(outTemporary);
} catch (error) {
  die((error as Error).message);
}
chmodSync(outTemporary, 0o755);
renameSync(outTemporary, out);
process.stdout.write(`built ${out} (${(statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${arch}, node v${nodeVersion}, ${commit ? `git ${commit}` : 'no git commit'})\n`);
