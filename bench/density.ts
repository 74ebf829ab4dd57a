// npm run bench:density [-- --counts 1,10,50] [--parallel 4] [--image NAME] [--out DIR]
//                           [--no-fit] [--fit-step-kb 512] [--orphans 200] [--name NAME]
//       npm run bench:density -- --render DIR/density.json   (rewrites DIR's density.md and .svg from it)
// (also: npm run bench -- density …)
//
// What a pause.ts pod costs a node, beside a C pause (catatonit -P): for each
// image and each N, N pod sandboxes through containerd's CRI, measured, then
// stopped and removed, and checked that nothing is left. Starts its own
// containerd per image (sandbox_image is per containerd); needs root,
// containerd 1.6, runc, podman, catatonit (static) and nsenter. Builds the
// peer image itself; our image must exist: `npm run image` makes
// localhost/pause.ts:VERSION (or pass --image, e.g. the tests' localhost/pause.ts:test).
// Writes DIR/density.md, density.json and density.svg (DIR: bench/results); with
// --name NAME, DIR/NAME.md, NAME.json and NAME.svg (a partial run kept beside the full one).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultImageTag } from '../scripts/image-inputs.ts';
import { startContainerd, type Containerd } from '../tools/cri/containerd.ts';
import { criClient } from '../tools/cri/client.ts';
import { hasCommand, readProc } from '../tools/procs.ts';
import { flavour, READ, removeCgroups } from './lib/density/cgroups.ts';
import { fit, type FitResult } from './lib/density/fit.ts';
import { buildPeer, type Peer } from './lib/density/peer.ts';
import { markdown, svg, type DensityResults } from './lib/density/report.ts';
import { cold, series, type ColdResult, type ImageKey, type Runtime, type SeriesResult } from './lib/density/series.ts';

const root = resolve(import.meta.dirname, '..');
const defaultImage = defaultImageTag(root);

function log(message: string): void {
  process.stderr.write(`bench density: ${message}\n`);
}

/** One line for the user, not a stack trace. */
function fail(message: string): never {
  log(message);
  process.exit(1);
}

function options() {
  const args = process.argv.slice(2).filter((arg, i) => !(i === 0 && arg === 'density'));
  try {
    const { values } = parseArgs({ args, options: {
      counts: { type: 'string', default: '1,10,50' },
      parallel: { type: 'string', default: '4' },
      image: { type: 'string', default: defaultImage },
      out: { type: 'string', default: join(root, 'bench', 'results') },
      'no-fit': { type: 'boolean', default: false },
      'fit-step-kb': { type: 'string', default: '512' },
      orphans: { type: 'string', default: '200' },
      render: { type: 'string' },
      name: { type: 'string', default: 'density' },
    } });
    const counts = values.counts.split(',').map(Number);
    const whole = (value: number, what: string) => {
      if (!Number.isInteger(value) || value < 1) fail(`${what} must be a whole number above 0`);
      return value;
    };
    counts.forEach((n) => whole(n, '--counts: each count'));
    return {
      render: values.render, name: values.name, counts, image: values.image, out: values.out, fit: !values['no-fit'],
      parallel: whole(Number(values.parallel), '--parallel'),
      fitStepKb: whole(Number(values['fit-step-kb']), '--fit-step-kb'),
      orphans: whole(Number(values.orphans), '--orphans'),
    };
  } catch (error) {
    fail(`${(error as Error).message.split('\n')[0]} (see the usage at the top of bench/density.ts)`);
  }
}

const opts = options();

function writeResults(dir: string, name: string, results: DensityResults): void {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  write(`${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
  write(`${name}.svg`, svg(results));
  write(`${name}.md`, markdown(results, `${name}.svg`));
}

if (opts.render !== undefined) {
  // The report again from a run's figures (after a change to the report, not to what is measured).
  try {
    writeResults(dirname(opts.render), basename(opts.render, '.json'), JSON.parse(readFileSync(opts.render, 'utf8')) as DensityResults);
  } catch (error) {
    fail(`cannot render ${opts.render}: ${(error as Error).message.split('\n')[0]}`);
  }
  process.exit(0);
}
if (process.platform !== 'linux') fail('Linux only');
if (process.getuid?.() !== 0) fail('needs root: it starts containerd and makes cgroups');
const missing = ['containerd', 'ctr', 'containerd-shim-runc-v2', 'runc', 'podman', 'catatonit', 'nsenter'].filter((c) => !hasCommand(c));
if (missing.length > 0) fail(`missing: ${missing.join(', ')} (Debian: apt-get install containerd runc podman catatonit util-linux)`);
const imageId = spawnSync('podman', ['image', 'inspect', '--format', '{{.Id}}', opts.image], { encoding: 'utf8' });
if (imageId.status !== 0) fail(`no image ${opts.image}: run \`npm run image\` first (it makes ${defaultImage}), or pass --image NAME (the image tests build localhost/pause.ts:test)`);

const firstLine = (command: string, args: string[]) => spawnSync(command, args, { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? command;
const cgroupFlavour = flavour();
const cgroupRoot = `/pause-density-${process.pid}`;
const peerTag = `localhost/pause-density-catatonit:${process.pid}`;
const upTimeoutMs = 120_000;
const runtimes: Runtime[] = [];
let peer: Peer | undefined;
let cleaning: Promise<void> | undefined;

/** Everything the bench made: sandboxes go with their containerd, then its directory, the cgroups and the peer image. */
function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    for (const runtime of runtimes) {
      runtime.cri.close();
      await runtime.containerd.stop();
    }
    const left = removeCgroups(cgroupRoot);
    if (left.length > 0) log(`could not remove ${left.join(', ')}`);
    peer?.remove();
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function start(key: ImageKey, image: string): Promise<Runtime> {
  const containerd: Containerd = await startContainerd(image);
  const runtime: Runtime = { key, image, containerd, cri: criClient(containerd.socket), flavour: cgroupFlavour, cgroupRoot };
  runtimes.push(runtime);
  containerd.importImage(image);
  return runtime;
}

const begin = Date.now();
const load = loadavg();
const seriesResults: SeriesResult[] = [];
const coldResults: ColdResult[] = [];
const fitResults: FitResult[] = [];
try {
  log(`load average ${load.map((l) => l.toFixed(2)).join(' ')}; building the catatonit image`);
  peer = buildPeer(peerTag);
  log(`starting a containerd for ${opts.image} and one for ${peer.image}`);
  const ours = await start('pause', opts.image);
  const theirs = await start('catatonit', peer.image);
  const both = [ours, theirs];
  for (const runtime of both) {
    log(`${runtime.key}: one sandbox from a cold page cache`);
    coldResults.push(await cold(runtime, upTimeoutMs));
  }
  // Image by image within each N, so that the machine's load (shared) weighs on both alike.
  for (const n of opts.counts) {
    for (const runtime of both) {
      const started = Date.now();
      const result = await series(runtime, n, opts.parallel, upTimeoutMs);
      seriesResults.push(result);
      log(`${runtime.key}: N = ${n} in ${((Date.now() - started) / 1000).toFixed(0)} s${result.leftovers.length ? `; LEFT: ${result.leftovers.join(', ')}` : ''}`);
    }
  }
  if (opts.fit) {
    for (const runtime of both) fitResults.push(await fit(runtime, opts.orphans, opts.fitStepKb, log));
    // The first pod on a node, or the first after its pages were evicted: charged for what its start reads.
    if (process.getuid?.() === 0) for (const runtime of both) fitResults.push(await fit(runtime, opts.orphans, opts.fitStepKb, log, true));
  }
  const versions = { containerd: firstLine('containerd', ['--version']).replace(/^containerd \S+ /, 'containerd '), runc: firstLine('runc', ['--version']) };
  await cleanUp();
  const results: DensityResults = {
    date: new Date(begin).toISOString(),
    machine: { kernel: release(), cpus: cpus().length, memTotalKb: Number(/^MemTotal:\s+(\d+)/m.exec(readProc('/proc/meminfo') ?? '')?.[1]), load, loadAtEnd: loadavg() },
    runtime: { ...versions, cgroup: READ[cgroupFlavour], parallel: opts.parallel },
    images: {
      pause: { image: opts.image, what: `image ${imageId.stdout.trim().slice(0, 12)}, built from this repository's Dockerfile: /pause, the Node SEA, in pause mode, uid 65535` },
      catatonit: { image: peer.image, what: peer.what },
    },
    series: seriesResults, cold: coldResults, fit: fitResults,
    made: { cgroupRoot, peerImage: peerTag, containerdDirs: runtimes.map((r) => r.containerd.dir) },
    tookS: (Date.now() - begin) / 1000,
  };
  writeResults(opts.out, opts.name, results);
  const left = [...seriesResults, ...coldResults].flatMap((r) => r.leftovers);
  log(`done in ${results.tookS.toFixed(0)} s: ${join(opts.out, `${opts.name}.md`)}`);
  if (left.length > 0) fail(`left behind: ${left.join(', ')}`);
} catch (error) {
  await cleanUp();
  fail(`failed: ${(error as Error).message.split('\n')[0]}`);
}
