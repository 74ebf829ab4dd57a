// What a scanner reads in the image: a dpkg status record for each Debian
// package whose files the image holds (as distroless images carry them), and
// an SPDX 2.3 SBOM naming those packages and the Node that /pause embeds.
// The expected packages are found independently of the build: `dpkg -S` by
// each image file's name, and its content, in the builder's base image.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SBOM_PATH, SPDX_VERSION, STATUS_DIR } from '../../scripts/sbom.ts';
import { skipUnless } from './helpers/containers.ts';
import { pod } from './helpers/engine.ts';
import { imageEntries, unpackImage, type ImageEntry } from './helpers/image-files.ts';
import { ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE, PAUSE_IMAGE_ARM64 } from './helpers/images.ts';
import { NODE_VERSION, STAND_IN } from './helpers/stand-in.ts';

/** The pause executable in the image: the bundle's (/pause links to it). */
const EXECUTABLE = '/pause.ts/pause';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'readelf']);

/** One dpkg status stanza: `Field: value` lines, continuation lines starting with a space. */
function parseStanza(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  let last = '';
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const field = /^([A-Za-z0-9][\w-]*): ?(.*)$/.exec(line);
    if (field) fields[(last = field[1]!)] = field[2]!;
    else if (/^ /.test(line) && last) fields[last] += `\n${line}`;
    else throw new Error(`not a dpkg status line: ${JSON.stringify(line)}`);
  }
  return fields;
}

interface Unpacked { entries: ImageEntry[]; records: Record<string, Record<string, string>>; sbom: Record<string, unknown> }

function unpack(image: string, dirs: string[]): Unpacked {
  const dir = unpackImage(image, [STATUS_DIR, SBOM_PATH]);
  dirs.push(dir);
  const recordDir = join(dir, STATUS_DIR);
  const records = Object.fromEntries(readdirSync(recordDir).map((name) => [name, parseStanza(readFileSync(join(recordDir, name), 'utf8'))]));
  return { entries: imageEntries(image), records, sbom: JSON.parse(readFileSync(join(dir, SBOM_PATH), 'utf8')) as Record<string, unknown> };
}

/**
 * In the builder's base image: the package that installed each of the image's
 * files, found as dpkg sees it, independently of the build: every path dpkg
 * knows by the file's name (`dpkg -S '*\/NAME'`, wherever the image keeps it)
 * whose content is the same, and that package's version.
 */
function ownersInBuilder(files: readonly { name: string; sha256: string }[]): Map<string, string> {
  const script = [
    'for pair; do',
    '  name=${pair% *}; sum=${pair#* }',
    '  dpkg-query -S "*/$name" 2>/dev/null | grep -v "^diversion" | while IFS= read -r line; do',
    '    pkg=${line%%: /*}; path=/${line#*: /}',
    '    [ -f "$path" ] && [ "$(sha256sum "$path" | cut -d" " -f1)" = "$sum" ] && echo "${pkg%%[:,]*}"',
    '  done',
    'done | sort -u | while read p; do dpkg-query -W -f="\\${Package} \\${Version}\\n" "$p"; done',
  ].join('\n');
  const pairs = files.map((f) => `${f.name} ${f.sha256}`);
  const out = pod(['run', '--rm', '--network=none', STAND_IN, 'sh', '-c', script, 'sh', ...pairs]);
  return new Map(out.trim().split('\n').filter(Boolean).map((line) => line.split(' ') as [string, string]));
}

interface SpdxPackage { SPDXID: string; name: string; versionInfo?: string; downloadLocation?: string; externalRefs?: { referenceType: string; referenceLocator: string }[] }

describe.skipIf(skip)('package records and SBOM in the image', () => {
  const dirs: string[] = [];
  let amd64: Unpacked;
  let arm64: Unpacked;

  beforeAll(() => {
    ensureImages('arm64');
    amd64 = unpack(PAUSE_IMAGE, dirs);
    arm64 = unpack(PAUSE_IMAGE_ARM64, dirs);
  }, IMAGES_TIMEOUT_MS);
  afterAll(() => { for (const dir of dirs) rmSync(dir, { recursive: true, force: true }); });

  const isRecord = (path: string) => path.startsWith(`/${STATUS_DIR}/`) || path === `/${SBOM_PATH}`;

  it('parses each record as a dpkg status entry, named by its package, installed', () => {
    for (const [file, record] of Object.entries(amd64.records)) {
      expect(record).toMatchObject({ Package: file, Status: 'install ok installed', Architecture: 'amd64' });
      expect(record['Version']).toMatch(/^\S+$/);
    }
  });

  it('names exactly the packages whose files the image holds, at the builder\'s versions', () => {
    // Every regular file but the executable (Node, not a Debian package's) and the records themselves.
    const paths = amd64.entries.filter((e) => e.mode.startsWith('-')).map((e) => e.path)
      .filter((path) => path !== EXECUTABLE && !isRecord(path));
    expect(paths.length).toBeGreaterThan(0);
    const dir = unpackImage(PAUSE_IMAGE, paths.map((path) => path.slice(1)));
    dirs.push(dir);
    const owners = ownersInBuilder(paths.map((path) => ({
      name: path.slice(path.lastIndexOf('/') + 1),
      sha256: createHash('sha256').update(readFileSync(join(dir, path))).digest('hex'),
    })));
    const recorded = new Map(Object.values(amd64.records).map((r) => [r['Package']!, r['Version']!]));
    expect(recorded).toEqual(owners);
  });

  it('records the arm64 image\'s packages as arm64, the same packages at the same versions', () => {
    const versions = (u: Unpacked) => Object.values(u.records).map((r) => `${r['Package']} ${r['Version']}`).sort();
    expect(versions(arm64)).toEqual(versions(amd64));
    for (const record of Object.values(arm64.records)) expect(record['Architecture']).toBe('arm64');
  });

  it('adds nothing executable: the records and the SBOM are plain files without x bits', () => {
    const added = amd64.entries.filter((e) => isRecord(e.path));
    expect(added.length).toBe(Object.keys(amd64.records).length + 1);
    for (const entry of added) expect(entry.mode).toMatch(/^-r[w-]-r--r--$/);
  });

  it('has an SBOM with the fields SPDX 2.3 requires', () => {
    const sbom = amd64.sbom as { spdxVersion: string; dataLicense: string; SPDXID: string; name: string; documentNamespace: string; creationInfo: { created: string; creators: string[] }; packages: SpdxPackage[]; relationships: { spdxElementId: string; relatedSpdxElement: string; relationshipType: string }[] };
    expect(sbom).toMatchObject({ spdxVersion: SPDX_VERSION, dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT' });
    expect(sbom.name).toBeTruthy();
    // An absolute URI without a fragment (SPDX 2.3, 6.5).
    expect(new URL(sbom.documentNamespace).hash).toBe('');
    expect(sbom.creationInfo.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(sbom.creationInfo.creators.length).toBeGreaterThan(0);
    for (const creator of sbom.creationInfo.creators) expect(creator).toMatch(/^(Tool|Organization|Person): \S/);
    const ids = new Set(sbom.packages.map((p) => p.SPDXID));
    expect(ids.size).toBe(sbom.packages.length);
    for (const pkg of sbom.packages) {
      expect(pkg.SPDXID).toMatch(/^SPDXRef-[A-Za-z0-9.-]+$/);
      expect(pkg.name).toBeTruthy();
      expect(pkg.downloadLocation).toBeTruthy();
    }
    for (const rel of sbom.relationships) {
      expect(rel.relationshipType).toMatch(/^[A-Z_]+$/);
      expect([...ids, 'SPDXRef-DOCUMENT']).toContain(rel.spdxElementId);
      expect(ids).toContain(rel.relatedSpdxElement);
    }
    expect(sbom.relationships).toContainEqual({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: sbom.packages[0]!.SPDXID });
  });

  it('lists in the SBOM the recorded packages and Node ' + NODE_VERSION + ' with its CPE', () => {
    for (const unpacked of [amd64, arm64]) {
      const packages = (unpacked.sbom as { packages: SpdxPackage[] }).packages;
      const debs = packages.filter((p) => p.externalRefs?.some((r) => r.referenceLocator.startsWith('pkg:deb/')));
      expect(new Map(debs.map((p) => [p.name, p.versionInfo]))).toEqual(new Map(Object.values(unpacked.records).map((r) => [r['Package'], r['Version']])));
      const node = packages.find((p) => p.name === 'node');
      expect(node?.versionInfo).toBe(NODE_VERSION);
      expect(node?.externalRefs?.map((r) => r.referenceLocator)).toContain(`cpe:2.3:a:nodejs:node.js:${NODE_VERSION}:*:*:*:*:*:*:*`);
    }
  });
});
