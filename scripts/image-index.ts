// The multi-architecture image: two single-architecture images from podman's
// store joined into an OCI image index (podman manifest create/add) and written
// as one OCI archive (podman manifest push --all to oci-archive:). The archive
// is an OCI layout whose index.json names the image index; `ctr images import
// --all-platforms` takes all of it, `podman load` (4.3) the host's platform only.
import { execFileSync, spawnSync } from 'node:child_process';
import { arch } from 'node:os';

/** The platforms of the index, as a kubelet's node reports them; arm64 is ARMv8 ("v8"). */
export const PLATFORMS = [
  { architecture: 'amd64', os: 'linux' },
  { architecture: 'arm64', os: 'linux', variant: 'v8' },
] as const;
export type Architecture = (typeof PLATFORMS)[number]['architecture'];

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}
export interface ImageIndex { schemaVersion: number; mediaType?: string; manifests: Descriptor[] }
export interface ImageManifest { mediaType?: string; config: Descriptor; layers: Descriptor[] }
export interface ImageConfig { architecture: string; os: string; variant?: string; config: Record<string, unknown> }

export interface IndexArchive {
  /** The index itself: the digest a reference@digest names. */
  index: Descriptor;
  entries: { platform: string; manifest: Descriptor; image: ImageManifest; config: ImageConfig }[];
}

/**
 * podman build's flags for a platform, and the build machine's platform as
 * BUILDPLATFORM: without it buildah 1.28 (Debian 12) looks for a builder image
 * of the target's platform for `FROM --platform=$BUILDPLATFORM` ("image not
 * known"). TARGETARCH is given too: with --arch rather than --platform buildah
 * leaves it unset.
 */
export function platformBuildArgs(platform: (typeof PLATFORMS)[number]): string[] {
  const variant = 'variant' in platform ? ['--variant', platform.variant] : [];
  return [
    '--os', platform.os, '--arch', platform.architecture, ...variant,
    '--build-arg', `TARGETARCH=${platform.architecture}`,
    '--build-arg', `BUILDPLATFORM=linux/${arch() === 'arm64' ? 'arm64' : 'amd64'}`,
  ];
}

/**
 * Writes the platform's variant into the image's config, as the index entry
 * names it: buildah 1.28 leaves it out of a multi-stage build's image even with
 * --variant. A new config over the same layers, under the same name; the image
 * it replaces is removed. With `epoch`, dated as a reproducible build dates it.
 */
export function setConfigVariant(image: string, platform: (typeof PLATFORMS)[number], epoch?: number): void {
  if (!('variant' in platform)) return;
  const previous = execFileSync('podman', ['image', 'inspect', '--format', '{{.Id}}', image], { encoding: 'utf8' }).trim();
  const container = execFileSync('buildah', ['from', '--pull=never', '--arch', platform.architecture, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n').at(-1)!;
  try {
    execFileSync('buildah', ['config', '--variant', platform.variant, container]);
    // The commit's time for the new config and history entry, as the build's own (scripts/image-inputs.ts).
    const reproducible = epoch === undefined ? [] : ['--timestamp', String(epoch), '--identity-label=false'];
    execFileSync('buildah', ['commit', '--quiet', ...reproducible, container, image], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    spawnSync('buildah', ['rm', container], { stdio: 'ignore' });
  }
  spawnSync('podman', ['rmi', previous], { stdio: 'ignore' });
}

const podman = (args: string[]) => execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
export const platformName = (p: { architecture: string; os: string; variant?: string }) => [p.os, p.architecture, p.variant].filter(Boolean).join('/');

/**
 * Writes the index of `images` (one podman image per architecture) to `archive`
 * under the name `reference`, a full one (localhost/pause.ts:0.1.0): `podman load`
 * names the image by it, and `ctr images import --base-name localhost/pause.ts` keeps it. The manifest list `list` is
 * made in podman's store for the push, and removed after it unless `keep`.
 */
export function writeIndexArchive(images: Record<Architecture, string>, archive: string, reference: string, list: string, { keep = false } = {}): IndexArchive {
  spawnSync('podman', ['manifest', 'rm', list], { stdio: 'ignore' });
  podman(['manifest', 'create', list]);
  try {
    for (const platform of PLATFORMS) {
      const variant = 'variant' in platform ? ['--variant', platform.variant] : [];
      podman(['manifest', 'add', '--os', platform.os, '--arch', platform.architecture, ...variant, list, `containers-storage:${images[platform.architecture]}`]);
    }
    // --format oci: an OCI image index of OCI manifests, layers gzip-compressed as a registry serves them.
    podman(['manifest', 'push', '--quiet', '--all', '--format', 'oci', list, `oci-archive:${archive}:${reference}`]);
  } finally {
    if (!keep) spawnSync('podman', ['manifest', 'rm', list], { stdio: 'ignore' });
  }
  return readIndexArchive(archive);
}

/** A JSON blob of an OCI archive, by path inside it. */
function member<T>(archive: string, path: string): T {
  return JSON.parse(execFileSync('tar', ['-xOf', archive, path], { encoding: 'utf8', maxBuffer: 2 ** 24 })) as T;
}
const blob = <T>(archive: string, digest: string) => member<T>(archive, `blobs/${digest.replace(':', '/')}`);

/** The index an OCI archive holds, with each entry's manifest and config. */
export function readIndexArchive(archive: string): IndexArchive {
  const top = member<ImageIndex>(archive, 'index.json');
  const index = top.manifests.find((d) => d.mediaType === 'application/vnd.oci.image.index.v1+json');
  if (!index) throw new Error(`${archive} holds no OCI image index (index.json names ${top.manifests.map((d) => d.mediaType).join(', ') || 'nothing'})`);
  const entries = blob<ImageIndex>(archive, index.digest).manifests.map((manifest) => {
    const image = blob<ImageManifest>(archive, manifest.digest);
    return { platform: platformName(manifest.platform ?? { architecture: '?', os: '?' }), manifest, image, config: blob<ImageConfig>(archive, image.config.digest) };
  });
  return { index, entries };
}

/** The summary `npm run image` prints: the index digest, and each entry's digest and size. */
export function describeIndex(archive: string, reference: string, found: IndexArchive): string {
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const lines = [`index: ${reference} in ${archive}`, `  digest: ${found.index.digest}`];
  for (const { platform, manifest, image } of found.entries) {
    const layers = image.layers.reduce((sum, layer) => sum + layer.size, 0);
    lines.push(`  ${platform.padEnd(16)} ${manifest.digest}  ${mib(layers + image.config.size + manifest.size)} compressed`);
  }
  return `${lines.join('\n')}\n`;
}
