// The index signed on push (npm run image:push -- --sign, GPG simple signing)
// and checked by a real consumer: podman with a policy.json that requires our
// key pulls ours, and refuses the same index unsigned or signed by another key.
// The registry is the registry test's (127.0.0.1 only); the signatures are
// served from 127.0.0.1 as a "lookaside" web server, as docs/image.md says to
// publish them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signaturePath } from '../../scripts/push.ts';
import { ROOT } from '../helpers/paths.ts';
import { skipUnless } from './helpers/containers.ts';
import { IMAGES_TIMEOUT_MS } from './helpers/images.ts';
import { writeTestIndex, type TestIndex } from './helpers/index-archive.ts';
import { startRegistry, type Registry } from './helpers/registry.ts';
import { makeConsumer, makeGpgKey, serveLookaside, type Consumer, type GpgKey, type Lookaside } from './helpers/signing.ts';

const skip = skipUnless(['podman', 'runc', 'buildah', 'debootstrap', 'flock', 'docker-registry', 'skopeo', 'gpg', 'gpgconf', 'qemu-aarch64-static', 'update-binfmts']);

/** `npm run image:push -- ARGS` as a user runs it, with `key`'s keyring as GNUPGHOME. */
function pushScript(args: readonly string[], key?: GpgKey) {
  const env = key ? { ...process.env, GNUPGHOME: key.home } : process.env;
  return spawnSync(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'scripts/push.ts'), ...args], { env, encoding: 'utf8', timeout: 300_000 });
}

describe.skipIf(skip)('the index signed on push, verified by podman under a policy.json', () => {
  let work = '';
  let index: TestIndex;
  let registry: Registry;
  let ours: GpgKey;
  let other: GpgKey;
  let lookaside: Lookaside;
  const consumers: Consumer[] = [];
  let signatures = '';
  const reference = (repository: string) => `${registry.host}/${repository}:1`;

  beforeAll(async () => {
    work = mkdtempSync('/var/tmp/pause-signing-');
    signatures = join(work, 'signatures');
    index = writeTestIndex();
    registry = await startRegistry();
    ours = makeGpgKey(work, 'ours');
    other = makeGpgKey(work, 'other');
    lookaside = await serveLookaside(signatures);
  }, IMAGES_TIMEOUT_MS);

  afterAll(async () => {
    for (const consumer of consumers) consumer.remove();
    await lookaside?.stop();
    ours?.remove();
    other?.remove();
    await registry?.stop();
    index?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const consumer = (key: GpgKey) => {
    const made = makeConsumer(work, registry.host, key.publicKey, lookaside.url);
    consumers.push(made);
    return made;
  };
  const push = (repository: string, key?: GpgKey) => {
    const sign = key ? ['--sign', key.fingerprint] : [];
    return pushScript([...sign, '--signatures', signatures, '--archive', index.archive, '--insecure', reference(repository)], key);
  };

  it('pushes the index signed by our key, and writes its signature where the lookaside serves it', () => {
    const pushed = push('pause.ts', ours);
    expect(pushed.stderr).toBe('');
    expect(pushed.status).toBe(0);
    expect(pushed.stdout).toContain(`pushed ${registry.host}/pause.ts@${index.index.digest}`);
    const signature = signaturePath(signatures, reference('pause.ts'), index.index.digest);
    expect(pushed.stdout).toContain(signature);
    expect(existsSync(signature)).toBe(true);
  });

  it('is pulled by podman whose policy requires our key: the index the registry holds, its amd64 image', async () => {
    const node = consumer(ours);
    const pulled = await node.pull(reference('pause.ts'));
    expect(pulled.stderr).toBe('');
    expect(pulled.status).toBe(0);
    const amd64 = index.entries.find((entry) => entry.manifest.platform?.architecture === 'amd64')!;
    expect(node.inspect(reference('pause.ts'), '{{.Architecture}}')).toBe('amd64');
    const repoDigests = node.inspect(reference('pause.ts'), '{{join .RepoDigests " "}}').split(' ');
    expect(repoDigests).toContain(`${registry.host}/pause.ts@${index.index.digest}`);
    expect(repoDigests).toContain(`${registry.host}/pause.ts@${amd64.manifest.digest}`);
  });

  it('refuses the same index pushed unsigned', async () => {
    expect(push('unsigned').status).toBe(0);
    const pulled = await consumer(ours).pull(reference('unsigned'));
    expect(pulled.status).toBe(125);
    expect(pulled.stderr).toContain('Source image rejected: A signature was required, but no signature exists');
  });

  it('refuses the same index signed by another key, a signature podman takes when that key is the one required', async () => {
    expect(push('other', other).status).toBe(0);
    const refused = await consumer(ours).pull(reference('other'));
    expect(refused.status).toBe(125);
    expect(refused.stderr).toContain('Source image rejected');
    expect(refused.stderr).toContain(other.fingerprint);
    // The signature itself is sound: the refusal is about whose key made it.
    const trusting = await consumer(other).pull(reference('other'));
    expect(trusting.stderr).toBe('');
    expect(trusting.status).toBe(0);
  });

  it('fails in one line when the signing key is not in the keyring', () => {
    const result = pushScript(['--sign', 'NO-SUCH-KEY', '--signatures', signatures, '--archive', index.archive, '--insecure', reference('nokey')], ours);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^image:push: skopeo copy to \S+ failed: .*key "NO-SUCH-KEY" not found\n$/);
  });

  it('says in one line what to do when the reference names no registry', () => {
    const result = pushScript(['--archive', index.archive, 'pause.ts:1']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^image:push: 'pause\.ts:1' names no registry: write it in full, e\.g\. registry\.example\.com\/pause\.ts:\S+\n$/);
  });
});
