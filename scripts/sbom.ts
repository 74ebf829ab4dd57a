// The image's SBOM as an SPDX 2.3 JSON document: the image's own package, the
// Node it embeds and the Debian packages whose files it carries. Pure: the
// build (scripts/image-records.ts) gathers the facts, the tests read them back.
import { createHash } from 'node:crypto';

/** Where the image carries its records: dpkg's status.d (as distroless does) and the SBOM. */
export const STATUS_DIR = 'var/lib/dpkg/status.d';
export const SBOM_PATH = 'usr/share/sbom/pause.ts.spdx.json';
export const SPDX_VERSION = 'SPDX-2.3';

export interface Component {
  name: string;
  version: string;
  /** dpkg's Maintainer field: the party that supplies the package. */
  supplier: string;
  purl: string;
  /** Where the package's files are in the image. */
  files: string[];
}

export interface SbomFacts {
  project: string;
  version: string;
  license: string;
  architecture: string;
  node: { version: string; file: string };
  packages: Component[];
}

type Json = Record<string, unknown>;
const spdxId = (kind: string, name: string) => `SPDXRef-${kind}-${name.replace(/[^A-Za-z0-9.-]/g, '-')}`;

/** Node as a scanner matches it: NVD's CPE for Node.js (vendor nodejs, product node.js) and a purl. */
function nodePackage(version: string, file: string): Json {
  return {
    SPDXID: spdxId('Package', 'node'),
    name: 'node',
    versionInfo: version,
    supplier: 'Organization: OpenJS Foundation',
    downloadLocation: `https://nodejs.org/download/release/v${version}/`,
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'MIT',
    copyrightText: 'NOASSERTION',
    comment: `Embedded in ${file}: the executable is Node's own binary with the application injected (a single executable application).`,
    externalRefs: [
      { referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: `cpe:2.3:a:nodejs:node.js:${version}:*:*:*:*:*:*:*` },
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:generic/node@${version}` },
    ],
  };
}

function debianPackage(component: Component): Json {
  return {
    SPDXID: spdxId('Package', `deb-${component.name}`),
    name: component.name,
    versionInfo: component.version,
    supplier: `Organization: ${component.supplier.replace(/\s*<([^>]*)>$/, ' ($1)')}`,
    downloadLocation: 'NOASSERTION',
    filesAnalyzed: false,
    licenseConcluded: 'NOASSERTION',
    licenseDeclared: 'NOASSERTION',
    copyrightText: 'NOASSERTION',
    comment: `Files in the image: ${component.files.join(', ')}`,
    externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: component.purl }],
  };
}

/** The document; `created` from SOURCE_DATE_EPOCH when set, so a reproducible build stays one. */
export function spdxDocument(facts: SbomFacts, now = process.env['SOURCE_DATE_EPOCH'] ? new Date(Number(process.env['SOURCE_DATE_EPOCH']) * 1000) : new Date()): Json {
  const root = spdxId('Package', facts.project);
  const packages = [nodePackage(facts.node.version, facts.node.file), ...facts.packages.map(debianPackage)];
  const identity = createHash('sha256').update(JSON.stringify([facts.architecture, packages])).digest('hex').slice(0, 32);
  return {
    spdxVersion: SPDX_VERSION,
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${facts.project}-${facts.version}-linux-${facts.architecture}`,
    documentNamespace: `https://github.com/pause-ts/pause.ts/spdx/${facts.project}-${facts.version}-${facts.architecture}-${identity}`,
    creationInfo: { created: now.toISOString().replace(/\.\d+Z$/, 'Z'), creators: [`Tool: ${facts.project}-scripts/image-records.ts`] },
    packages: [
      {
        SPDXID: root,
        name: facts.project,
        versionInfo: facts.version,
        supplier: 'NOASSERTION',
        downloadLocation: 'https://github.com/pause-ts/pause.ts',
        filesAnalyzed: false,
        licenseConcluded: facts.license,
        licenseDeclared: facts.license,
        copyrightText: 'NOASSERTION',
        primaryPackagePurpose: 'CONTAINER',
      },
      ...packages,
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: root },
      ...packages.map((pkg) => ({ spdxElementId: root, relationshipType: 'CONTAINS', relatedSpdxElement: pkg['SPDXID'] })),
    ],
  };
}
