// A podman/buildah/skopeo image store of its own, in a directory: builds made
// in it share no layer cache with the user's store or with each other, which
// is what a reproducibility check needs. containers-storage reads
// CONTAINERS_STORAGE_CONF, so every tool run with `env` uses the store.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unmountUnder } from '../tools/mounts.ts';

export interface Store {
  dir: string;
  /** The environment for podman, buildah and skopeo to use this store. */
  env: NodeJS.ProcessEnv;
  /** skopeo's name for an image in this store. */
  reference(image: string): string;
  /** Unmounts what the store left mounted (an interrupted build leaves its container's overlay), and removes it. */
  remove(): void;
}

export function separateStore(dir: string): Store {
  const [graph, run] = [join(dir, 'root'), join(dir, 'run')];
  mkdirSync(graph, { recursive: true });
  mkdirSync(run, { recursive: true });
  // podman 4.3 picks the network backend of a store that has no record of it: CNI
  // when the store already holds images (skopeo copies them in first), and a CNI
  // bridge on netavark's subnet (10.88.0.0/16) cuts every other podman container
  // on this machine off the network. Record netavark, as a fresh store would.
  writeFileSync(join(graph, 'defaultNetworkBackend'), 'netavark');
  const conf = join(dir, 'storage.conf');
  writeFileSync(conf, `[storage]\ndriver = "overlay"\ngraphroot = "${graph}"\nrunroot = "${run}"\n`);
  return {
    dir,
    env: { ...process.env, CONTAINERS_STORAGE_CONF: conf },
    reference: (image) => `containers-storage:[overlay@${graph}+${run}]${image}`,
    remove: () => {
      unmountUnder(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The builder image the Dockerfile names (its first FROM), fully qualified as podman stores it. */
export function builderImage(root: string): string {
  const from = /^FROM\s+(?:--platform=\S+\s+)?(\S+)/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
  if (!from) throw new Error(`${root}/Dockerfile has no FROM line`);
  const [first = '', ...rest] = from.split('/');
  if (rest.length > 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return from;
  return `docker.io/${rest.length > 0 ? from : `library/${from}`}`;
}

/** Copies `image` from the store `env` names (the user's, by default) into `store`: no registry is asked. */
export function copyInto(store: Store, image: string, env: NodeJS.ProcessEnv = process.env): void {
  execFileSync('skopeo', ['copy', '--quiet', `containers-storage:${image}`, store.reference(image)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Runs `npm run image` of the checkout `source` (its scripts/image.ts, with
 * this repository's tsx) in `store`, writing the archive to `archive`. Returns
 * what it printed, both streams; throws with that text when it fails.
 */
export function buildInStore(source: string, store: Store, archive: string, args: readonly string[] = []): string {
  const tsx = join(import.meta.dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs');
  // --network=host: each store keeps its own record of the bridge's addresses, so a
  // container of this store may be given an address one of the user's store holds.
  const result = spawnSync(process.execPath, [tsx, join(source, 'scripts', 'image.ts'), '--out', archive, '--network=host', ...args],
    { cwd: source, env: store.env, encoding: 'utf8', maxBuffer: 2 ** 28 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw Object.assign(new Error(`npm run image in ${source} failed (${result.status ?? result.signal}): ${output.trim().split('\n').at(-1)}`), { output });
  return output;
}
