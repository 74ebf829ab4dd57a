// npm run image:push -- [--sign FINGERPRINT] [--passphrase-file FILE]
//                       [--signatures DIR] [--archive FILE] [--insecure] REFERENCE
//
// Pushes the index `npm run image` wrote (dist/pause.ts-VERSION.oci.tar, both
// images) to REFERENCE with skopeo, and with --sign signs the index with that
// GPG key ("simple signing", the format podman and CRI-O check with a
// policy.json `signedBy` rule). The signature is not stored in the registry:
// skopeo writes it under DIR (default dist/signatures), laid out as the
// "lookaside" server nodes read it from must serve it (docs/image.md, "Signing
// and verifying"). The key is looked up in gpg's keyring (GNUPGHOME).
//
// Why GPG and not a sigstore key: Debian 12's skopeo 1.9.3 and podman 4.3 have
// --sign-by-sigstore-private-key, but Debian patched its signing out: it fails
// with "creating signature: Debian-local change: sigstore disabled".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readIndexArchive } from './image-index.ts';
import { packageVersion } from './image-inputs.ts';

const root = resolve(import.meta.dirname, '..');

export interface PushRequest {
  archive: string;
  reference: string;
  /** GPG fingerprint (or key ID) of the signing key; no signature without it. */
  signBy?: string;
  passphraseFile?: string;
  /** Where the signature is written, in lookaside layout. */
  signatures: string;
  /** Plain HTTP / no TLS verification: a local test registry. */
  insecure: boolean;
}

/** `host[:port]/path:tag`: the registry must be named, or the signature's identity would be docker.io's. */
export function repositoryOf(reference: string): string {
  const name = reference.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const first = name.split('/')[0] ?? '';
  if (!name.includes('/') || !(first.includes('.') || first.includes(':') || first === 'localhost')) {
    throw new Error(`'${reference}' names no registry: write it in full, e.g. registry.example.com/pause.ts:${'0.1.0'}`);
  }
  return name;
}

/** The file skopeo writes the index's first signature to, under the signatures directory. */
export function signaturePath(signatures: string, reference: string, digest: string): string {
  const path = repositoryOf(reference).split('/').slice(1).join('/');
  return join(signatures, `${path}@${digest.replace(':', '=')}`, 'signature-1');
}

/** skopeo's own one-line reason from its `level=fatal msg="..."` line, else its last line. */
function skopeoReason(stderr: string): string {
  const fatal = /level=fatal msg="((?:[^"\\]|\\.)*)"/.exec(stderr)?.[1];
  return (fatal ?? stderr.trim().split('\n').at(-1) ?? 'no output').replaceAll('\\"', '"');
}

/** Pushes (and signs) the index; returns its digest. Throws an Error with one line to show. */
export function push(request: PushRequest): string {
  repositoryOf(request.reference);
  if (!existsSync(request.archive)) throw new Error(`${request.archive} does not exist: run \`npm run image\` first (or pass --archive)`);
  // tar's own complaint would be two lines more on stderr: look first, quietly.
  const listing = spawnSync('tar', ['-tf', request.archive], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 2 ** 26 });
  if (listing.status !== 0 || !listing.stdout.split('\n').includes('index.json')) {
    throw new Error(`${request.archive} is not an OCI archive (no index.json at its top): pass the one \`npm run image\` wrote`);
  }
  readIndexArchive(request.archive); // an index, not a single image: says so in one line otherwise
  // A registries.d of our own: the signature goes to the staging directory
  // whatever the machine's /etc/containers/registries.d says.
  const config = mkdtempSync(join(tmpdir(), 'pause-push-'));
  try {
    mkdirSync(request.signatures, { recursive: true });
    writeFileSync(join(config, 'pause-push.yaml'), `default-docker:\n  lookaside-staging: file://${resolve(request.signatures)}\n`);
    const sign = request.signBy ? ['--sign-by', request.signBy, ...(request.passphraseFile ? ['--sign-passphrase-file', request.passphraseFile] : [])] : [];
    // --preserve-digests: the digest `npm run image` printed is the one pushed
    // and signed, or the push fails (skopeo would otherwise rewrite the index,
    // e.g. to compress an uncompressed layer, under a new digest).
    const args = ['copy', '--quiet', '--all', '--preserve-digests', '--digestfile', join(config, 'digest'), '--registries.d', config, ...sign,
      ...(request.insecure ? ['--dest-tls-verify=false'] : []), `oci-archive:${request.archive}`, `docker://${request.reference}`];
    const result = spawnSync('skopeo', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (result.error) throw new Error(`skopeo could not be run (${result.error.message}): apt-get install skopeo`);
    if (result.status !== 0) throw new Error(`skopeo copy to ${request.reference} failed: ${skopeoReason(result.stderr)}`);
    return readFileSync(join(config, 'digest'), 'utf8').trim();
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}

function main(): void {
  const version = packageVersion(root);
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      sign: { type: 'string' },
      'passphrase-file': { type: 'string' },
      signatures: { type: 'string', default: join(root, 'dist', 'signatures') },
      archive: { type: 'string', default: join(root, 'dist', `pause.ts-${version}.oci.tar`) },
      insecure: { type: 'boolean', default: false },
    },
  });
  const [reference, ...extra] = positionals;
  if (!reference || extra.length > 0) throw new Error('usage: npm run image:push -- [--sign FINGERPRINT] [--passphrase-file FILE] [--signatures DIR] [--archive FILE] [--insecure] REGISTRY/REPOSITORY:TAG');
  const request: PushRequest = { archive: resolve(values.archive), reference, signatures: resolve(values.signatures), insecure: values.insecure };
  if (values.sign) request.signBy = values.sign;
  if (values['passphrase-file']) request.passphraseFile = values['passphrase-file'];
  const digest = push(request);
  process.stdout.write(`pushed ${repositoryOf(reference)}@${digest} as ${reference}\n`);
  if (request.signBy) {
    process.stdout.write(`  signed by ${request.signBy}: ${signaturePath(request.signatures, reference, digest)}\n`
      + `  publish ${request.signatures} at the URL your nodes' registries.d names as \`lookaside\` (docs/image.md, "Signing and verifying")\n`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  try {
    main();
  } catch (error) {
    // Bad input or a failed push: one line, never a stack trace.
    process.stderr.write(`image:push: ${(error as Error).message.split('\n')[0]}\n`);
    process.exit(1);
  }
}
