// What the signing test needs besides the registry: GPG keys in keyrings of
// their own, a "lookaside" web server for the signatures on 127.0.0.1, and a
// podman that verifies with configuration and storage private to the test.
// Nothing here reads or writes the machine's gpg keyring, its
// /etc/containers/policy.json or registries.d, or podman's own store.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { run } from '../../helpers/process.ts';

export interface GpgKey {
  /** GNUPGHOME holding the key, for skopeo to sign with. */
  readonly home: string;
  readonly fingerprint: string;
  /** The public key, armored, as a node's policy.json names it. */
  readonly publicKey: string;
  remove(): void;
}

/** A new ed25519 signing key without a passphrase, alone in a new keyring under `parent`. */
export function makeGpgKey(parent: string, name: string): GpgKey {
  const home = join(parent, `gnupg-${name}`);
  mkdirSync(home, { mode: 0o700 });
  const env = { ...process.env, GNUPGHOME: home };
  const gpg = (args: string[]) => execFileSync('gpg', ['--batch', '--quiet', ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  gpg(['--passphrase', '', '--quick-gen-key', `pause.ts ${name} <${name}@pause-ts.invalid>`, 'ed25519', 'sign', 'never']);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(['--with-colons', '--list-secret-keys']))?.[1];
  if (!fingerprint) throw new Error(`gpg made no key in ${home}`);
  const publicKey = join(parent, `${name}.pub.asc`);
  writeFileSync(publicKey, gpg(['--armor', '--export', fingerprint]));
  return {
    home,
    fingerprint,
    publicKey,
    // gpg started an agent for this keyring: it ends with it.
    remove: () => { spawnSync('gpgconf', ['--kill', 'all'], { env, stdio: 'ignore' }); },
  };
}

export interface Lookaside {
  /** http://127.0.0.1:PORT, the `lookaside` of a node's registries.d. */
  readonly url: string;
  stop(): Promise<void>;
}

/** Serves the files under `dir` read-only on 127.0.0.1, as a signature web server would. */
export async function serveLookaside(dir: string): Promise<Lookaside> {
  const server: Server = createServer((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    try {
      const body = path.includes('..') ? undefined : readFileSync(join(dir, path));
      response.writeHead(200).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the lookaside server has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // podman's client keeps its connection open: close() alone would wait for it.
      server.closeAllConnections();
    }),
  };
}

export interface Consumer {
  /**
   * `podman pull` under the node's policy; its exit status and stderr. Not
   * spawnSync: podman fetches the signatures from the lookaside server, which
   * answers from this very process.
   */
  pull(reference: string): Promise<{ status: number | null; stderr: string }>;
  /** `podman image inspect --format FORMAT` in the consumer's store. */
  inspect(reference: string, format: string): string;
  remove(): void;
}

/**
 * A node as docs/image.md configures one: a policy.json that takes images
 * from `registry` only when signed by `publicKey`, and a registries.d naming
 * `lookaside` for it. podman finds registries.d under $HOME/.config/containers
 * before /etc/containers (containers/image does so for root too), and is given
 * the policy with --signature-policy; its store is a directory of its own (vfs:
 * no mounts to undo).
 */
export function makeConsumer(parent: string, registry: string, publicKey: string, lookaside: string): Consumer {
  const dir = mkdtempSync(join(parent, 'consumer-'));
  const registriesD = join(dir, 'home/.config/containers/registries.d');
  mkdirSync(registriesD, { recursive: true });
  writeFileSync(join(registriesD, 'pause-ts.yaml'), `docker:\n  ${registry}:\n    lookaside: ${lookaside}\n`);
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({
    default: [{ type: 'reject' }],
    transports: { docker: { [registry]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: publicKey }] } },
  }, null, 2));
  const env = { ...process.env, HOME: join(dir, 'home') };
  const podman = ['--root', join(dir, 'storage'), '--runroot', join(dir, 'run'), '--storage-driver', 'vfs'];
  return {
    async pull(reference) {
      const result = await run('podman', [...podman, 'pull', '--quiet', '--tls-verify=false', '--signature-policy', join(dir, 'policy.json'), reference], { env });
      return { status: result.code, stderr: result.stderr };
    },
    inspect: (reference, format) => execFileSync('podman', [...podman, 'image', 'inspect', '--format', format, reference], { env, encoding: 'utf8' }).trim(),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
