// tsx scripts/image-records.ts ROOTFS OUT
//
// Run in the image's builder stage, after the image's root is laid out in
// ROOTFS: writes into OUT what lets a scanner see what ROOTFS holds.
// - For each Debian package that owns a file in ROOTFS, a dpkg status record at
//   OUT/var/lib/dpkg/status.d/NAME, where distroless images keep them and Trivy,
//   Grype and Syft look. The owner is found by `dpkg -S` in the builder and
//   confirmed by content (the image's file is byte for byte the package's, at
//   whatever path the image puts it); every field comes from the builder's dpkg.
// - An SPDX 2.3 JSON SBOM at OUT/usr/share/sbom/pause.ts.spdx.json (Syft reads
//   embedded *.spdx.json files) naming those packages and the Node the
//   executable embeds, with Node's CPE so that a scanner matches its advisories.
// A file that is neither a package's nor the Node executable fails the build:
// the records cover everything the image holds, or the image is not made.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { SBOM_PATH, spdxDocument, STATUS_DIR, type Component } from './sbom.ts';

const [rootfs, out] = process.argv.slice(2);
if (!rootfs || !out) {
  process.stderr.write('usage: image-records.ts ROOTFS OUT\n');
  process.exit(2);
}
process.on('uncaughtException', (error) => {
  process.stderr.write(`image-records: ${error.message.split('\n')[0]}\n`);
  process.exit(1);
});

function regularFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    if (stat.isDirectory()) return regularFiles(path);
    return stat.isFile() ? [path] : [];
  });
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** `dpkg -S '*\/BASENAME'`: each path dpkg knows by that name, with its owners (pkg:arch). */
function ownersByName(basename: string): { packages: string[]; path: string }[] {
  const result = spawnSync('dpkg-query', ['--search', `*/${basename}`], { encoding: 'utf8' });
  // Exit 1 means no package has such a file; lines about diversions are not owners.
  return result.stdout.split('\n').filter((line) => line.includes(': /') && !line.startsWith('diversion ')).map((line) => {
    const at = line.indexOf(': /');
    return { packages: line.slice(0, at).split(', '), path: line.slice(at + 2) };
  });
}

/** The package (pkg:arch) whose file has the same content as `file`, if any. */
function owner(file: string): string | undefined {
  const hash = sha256(file);
  const base = file.slice(file.lastIndexOf('/') + 1);
  for (const { packages, path } of ownersByName(base)) {
    if (existsSync(path) && sha256(realpathSync(path)) === hash) return packages[0];
  }
  return undefined;
}

/** Node's version as the binary itself states it (Node embeds `node.js/vX.Y.Z`). */
function embeddedNodeVersion(file: string): string | undefined {
  const bytes = readFileSync(file);
  const at = bytes.indexOf('node.js/v');
  if (at < 0) return undefined;
  return /^node\.js\/v(\d+\.\d+\.\d+)/.exec(bytes.subarray(at, at + 32).toString('latin1'))?.[1];
}

/** The builder dpkg's own status stanza for `pkg` (pkg:arch), the fields a scanner reads; none typed here. */
function statusRecord(pkg: string): string {
  const fields = ['Package', 'Status', 'Priority', 'Section', 'Installed-Size', 'Maintainer', 'Architecture', 'Multi-Arch', 'Source', 'Version', 'Description', 'Homepage'];
  const format = fields.map((field) => `${field}: \${${field}}\n`).join('');
  const stanza = execFileSync('dpkg-query', ['--show', `--showformat=${format}`, pkg], { encoding: 'utf8' });
  // A field the package does not have comes out empty: dpkg's status leaves it out.
  return `${stanza.split('\n').filter((line) => line !== '' && !/^[\w-]+: $/.test(line)).join('\n')}\n`;
}

const query = (pkg: string, field: string) => execFileSync('dpkg-query', ['--show', `--showformat=\${${field}}`, pkg], { encoding: 'utf8' });

const packages = new Map<string, string[]>();
let node: { version: string; file: string } | undefined;
for (const file of regularFiles(rootfs)) {
  const inImage = `/${relative(rootfs, file)}`;
  const pkg = owner(file);
  if (pkg) {
    packages.set(pkg, [...(packages.get(pkg) ?? []), inImage]);
    continue;
  }
  const version = embeddedNodeVersion(file);
  if (!version) throw new Error(`${inImage}: no Debian package owns this file and it is not a Node executable; the image's records would miss it`);
  node = { version, file: inImage };
}
if (!node) throw new Error(`${rootfs} holds no Node executable`);

const distro = /^VERSION_ID="?(\d+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
const components: Component[] = [];
for (const [pkg, files] of packages) {
  const record = statusRecord(pkg);
  const name = query(pkg, 'Package');
  const target = join(out, STATUS_DIR, name);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, record);
  const architecture = query(pkg, 'Architecture');
  const version = query(pkg, 'Version');
  components.push({
    name,
    version,
    supplier: query(pkg, 'Maintainer'),
    purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${architecture}${distro ? `&distro=debian-${distro}` : ''}`,
    files,
  });
  process.stdout.write(`image-records: ${name} ${version} ${architecture} (${files.join(', ')})\n`);
}

const { name: project, version, license } = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string; version: string; license: string };
const sbom = spdxDocument({ project, version, license, architecture: query(packages.keys().next().value ?? '', 'Architecture'), node, packages: components });
mkdirSync(dirname(join(out, SBOM_PATH)), { recursive: true });
writeFileSync(join(out, SBOM_PATH), `${JSON.stringify(sbom, null, 2)}\n`);
process.stdout.write(`image-records: node ${node.version} (${node.file}); SBOM at /${SBOM_PATH}\n`);
