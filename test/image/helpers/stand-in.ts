// A local stand-in for the builder's base image, docker.io/library/node:26.12.1-bookworm-slim,
// which cannot be pulled here (no container registry is reachable): a Debian bookworm
// root made by debootstrap from Debian's own packages, the pinned Node binary from the
// npm registry (node_modules/node-linux-<arch>) and npm from the npm registry, laid out
// as the official image lays them out (/usr/local/bin). It is imported under the exact
// name the Dockerfile's FROM asks for, so the Dockerfile builds unmodified with --pull=never.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { arch } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../helpers/paths.ts';
import { unmountUnder } from '../../../tools/mounts.ts';

export const NODE_VERSION = '26.12.1';
export const STAND_IN = `docker.io/library/node:${NODE_VERSION}-bookworm-slim`;
/**
 * npm, from the npm registry: the version that wrote package-lock.json. (npm
 * 11.21 rejects this lock file in `npm ci`: it wants an entry for vite's
 * Windows-only optional dependency napi-windows-process-start-time.)
 */
const NPM_VERSION = '11.19.1';
/** What the stand-in is made of; change it to make every cached stand-in stale. */
export const STAND_IN_RECIPE = `node-${NODE_VERSION}-npm-${NPM_VERSION}-debootstrap-minbase-1`;
const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The Debian mirror this machine's apt uses, so debootstrap reaches what apt reaches. */
export function debianMirror(): string {
  for (const file of ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list']) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    const uri = /^URIs:\s*(\S+\/debian)\s*$/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\s+bookworm\b/m.exec(text)?.[1];
    if (uri) return uri;
  }
  return 'http://deb.debian.org/debian';
}

/** Builds and imports the stand-in; `label` records the inputs it was made from. */
export function buildStandIn(label: string): void {
  const nodeBinary = join(ROOT, 'node_modules', `node-linux-${arch()}`, 'bin', 'node');
  if (!existsSync(nodeBinary)) throw new Error(`${nodeBinary} is missing: run npm ci`);
  const work = mkdtempSync('/var/tmp/pause-stand-in-');
  try {
    const rootfs = join(work, 'rootfs');
    // Node 26 links libatomic.so.1, which the official image carries and minbase does not.
    execFileSync('debootstrap', ['--variant=minbase', '--include=libatomic1', 'bookworm', rootfs, debianMirror()], { stdio: ['ignore', 'ignore', 'inherit'] });
    const bin = join(rootfs, 'usr/local/bin');
    copyFileSync(nodeBinary, join(bin, 'node'));
    execFileSync('chmod', ['755', join(bin, 'node')]);
    const tarball = execFileSync('npm', ['pack', `npm@${NPM_VERSION}`, '--pack-destination', work, '--silent'], { encoding: 'utf8' }).trim();
    const npmDir = join(rootfs, 'usr/local/lib/node_modules/npm');
    mkdirSync(npmDir, { recursive: true });
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', npmDir, '--strip-components=1']);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(bin, 'npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(bin, 'npx'));
    // This machine reaches the npm registry through a TLS-intercepting proxy whose CA
    // only the host trusts; the stand-in carries the host's bundle so npm inside a build
    // works as it would against the real registry. (The real image needs none of this.)
    mkdirSync(join(rootfs, 'etc/ssl/certs'), { recursive: true });
    if (existsSync(HOST_CA_BUNDLE)) copyFileSync(HOST_CA_BUNDLE, join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    // Smaller and reproducible-ish: apt's lists and caches are not part of an image.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      for (const entry of readdirSync(join(rootfs, dir))) {
        if (entry !== 'partial' && entry !== 'lock') rmSync(join(rootfs, dir, entry), { recursive: true, force: true });
      }
    }
    const changes = [
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `ENV NODE_VERSION=${NODE_VERSION}`,
      `ENV NODE_EXTRA_CA_CERTS=${HOST_CA_BUNDLE}`,
      'CMD ["node"]',
      `LABEL io.github.pause-ts.stand-in=${label}`,
    ].flatMap((change) => ['--change', change]);
    const archive = join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '-cf', archive, '.']);
    execFileSync('podman', ['import', ...changes, archive, STAND_IN], { stdio: ['ignore', 'ignore', 'inherit'] });
  } finally {
    // debootstrap mounts /proc and /sys in the target while it works; an interrupted
    // run leaves them mounted, and they must not be walked by a recursive delete.
    unmountUnder(work);
    rmSync(work, { recursive: true, force: true });
  }
}
