// The image's inputs, and image.lock.json, the record of the inputs a
// published digest came from: the builder image by digest, every Debian package
// the builder installs (with its dependencies) at its exact version for each
// architecture, and the Node package for each architecture with package-lock.json's
// integrity. Debian's mirrors serve only current versions, so a build never
// fails for want of a locked one: it installs what apt resolves today (passed
// to the Dockerfile as exact versions), and says when that is not the lock.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PLATFORMS, type Architecture } from './image-index.ts';

export const LOCK_FILE = 'image.lock.json';

export interface NodeInput { package: string; version: string; integrity: string }
export interface ImageInputs {
  builder: { image: string; digest: string };
  /** apt's name (with :arch for a foreign one) → exact version, per target architecture. */
  packages: Record<Architecture, Record<string, string>>;
  node: Record<Architecture, NodeInput>;
}

/** The apt packages the Dockerfile's builder installs for each target (its `amd64) packages="..."` lines). */
export function builderPackages(root: string): Record<Architecture, string[]> {
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const list = (architecture: Architecture) => {
    const found = new RegExp(`^\\s*${architecture}\\) packages="([^"]+)"`, 'm').exec(dockerfile)?.[1];
    if (!found) throw new Error(`the Dockerfile has no \`${architecture}) packages="..."\` line`);
    return found.split(/\s+/);
  };
  return { amd64: list('amd64'), arm64: list('arm64') };
}

/**
 * What apt in `builder` would install today for each target: `apt-get install
 * --simulate` of the Dockerfile's packages, dependencies included ("Inst NAME
 * (VERSION ...)" lines). One container, one `apt-get update`.
 */
function resolvePackages(engine: string, builder: string, wanted: Record<Architecture, string[]>): Record<Architecture, Record<string, string>> {
  const simulate = (architecture: Architecture) => `echo "== ${architecture}"; apt-get install --simulate --no-install-recommends ${wanted[architecture].join(' ')}`;
  const script = [
    'set -e',
    '[ "$(dpkg --print-architecture)" = arm64 ] || dpkg --add-architecture arm64',
    'apt-get update -qq >/dev/null',
    ...PLATFORMS.map((platform) => simulate(platform.architecture)),
  ].join('; ');
  // The host's network: nothing of the container's own is needed, and a bridge's addresses are per image store.
  const output = execFileSync(engine, ['run', '--rm', '--network=host', builder, 'sh', '-c', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 2 ** 24 });
  const result = { amd64: {}, arm64: {} } as Record<Architecture, Record<string, string>>;
  let current: Record<string, string> | undefined;
  for (const line of output.split('\n')) {
    const section = /^== (\w+)$/.exec(line)?.[1];
    if (section) current = result[section as Architecture];
    const inst = /^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) /.exec(line);
    if (inst && current) current[inst[1]!] = inst[2]!;
  }
  return result;
}

/** The Node package for each architecture, as package-lock.json pins it (npm ci and scripts/build.ts check it). */
export function nodeInputs(root: string): Record<Architecture, NodeInput> {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; integrity?: string }> };
  const input = (architecture: Architecture): NodeInput => {
    const name = `node-linux-${architecture === 'amd64' ? 'x64' : 'arm64'}`;
    const entry = lock.packages[`node_modules/${name}`];
    if (!entry?.version || !entry.integrity) throw new Error(`package-lock.json pins no ${name} with its integrity`);
    return { package: name, version: entry.version, integrity: entry.integrity };
  };
  return { amd64: input('amd64'), arm64: input('arm64') };
}

/** The builder image's digest in the engine's store: podman's manifest digest, docker's first repository digest (or, built locally, its id). */
function builderDigest(engine: string, builder: string): string {
  const format = engine === 'podman' ? '{{.Digest}}' : '{{range .RepoDigests}}{{.}} {{end}}{{.Id}}';
  const found = execFileSync(engine, ['image', 'inspect', '--format', format, builder], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  return found.split(' ')[0]!.replace(/^.*@/, '');
}

/** Today's inputs of a build of `root` with `engine` (which pulls `builder` if its store lacks it, as the build would). */
export function resolveInputs(engine: string, root: string, builder: string): ImageInputs {
  const packages = resolvePackages(engine, builder, builderPackages(root));
  return { builder: { image: builder, digest: builderDigest(engine, builder) }, packages, node: nodeInputs(root) };
}

/** The Dockerfile's PACKAGES build argument: every package at its exact version. */
export const pinned = (packages: Record<string, string>) => Object.entries(packages).map(([name, version]) => `${name}=${version}`).join(' ');

export function readLock(path: string): ImageInputs | undefined {
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) as ImageInputs : undefined;
}

export function writeLock(path: string, inputs: ImageInputs): void {
  const sorted = (packages: Record<string, string>) => Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b)));
  const about = 'The inputs of the image digest a release publishes (docs/image.md, "Reproducing the image"). Written by npm run image:lock; npm run image says when its inputs differ, and --locked refuses to build.';
  const lock = { about, ...inputs, packages: { amd64: sorted(inputs.packages.amd64), arm64: sorted(inputs.packages.arm64) } };
  writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
}

/** How `found` differs from `lock`, each as `what locked → found`, for the architectures built. Pure. */
export function lockDifferences(lock: ImageInputs, found: ImageInputs, architectures: readonly Architecture[]): string[] {
  const differences: string[] = [];
  if (lock.builder.image !== found.builder.image || lock.builder.digest !== found.builder.digest) {
    differences.push(`builder ${lock.builder.image}@${lock.builder.digest} → ${found.builder.image}@${found.builder.digest}`);
  }
  for (const architecture of architectures) {
    const [locked, today] = [lock.packages[architecture] ?? {}, found.packages[architecture]];
    for (const name of new Set([...Object.keys(locked), ...Object.keys(today)])) {
      if (locked[name] !== today[name]) differences.push(`${name} (${architecture}) ${locked[name] ?? 'not locked'} → ${today[name] ?? 'not installed'}`);
    }
    const [node, nodeToday] = [lock.node[architecture], found.node[architecture]];
    if (node?.version !== nodeToday.version || node.integrity !== nodeToday.integrity) {
      differences.push(`${nodeToday.package} ${node?.version ?? 'not locked'} → ${nodeToday.version} (${nodeToday.integrity})`);
    }
  }
  return differences;
}
