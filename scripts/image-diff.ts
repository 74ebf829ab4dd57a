// npm run image:diff [-- A.oci.tar B.oci.tar] [--keep]
//
// Finds what makes two builds of one commit differ. With two archives, compares
// them. Without, builds HEAD twice as a stranger would: from two clean clones
// at different paths, each in an image store of its own (no shared layer
// cache; only the builder image is copied in), then compares. Prints each
// difference as `where: first → second` (the index, a platform's config field
// by field, a layer file by file with the tar header fields that differ) and
// exits 1; prints the index digest and exits 0 when the archives are the same
// byte for byte.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareArchives } from './image-compare.ts';
import { archiveMember } from './oci-layout.ts';
import { builderImage, buildInStore, copyInto, separateStore, type Store } from './image-store.ts';

const root = resolve(import.meta.dirname, '..');
const keep = process.argv.includes('--keep');
const archives = process.argv.slice(2).filter((arg) => arg !== '--keep');

function fail(message: string): never {
  process.stderr.write(`image:diff: ${message}\n`);
  process.exit(2);
}

/** Two clones of HEAD at different paths, each built in its own store; the two archives. */
function buildTwice(work: string, stores: Store[]): [string, string] {
  const head = execFileSync('git', ['-C', root, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  const results = ['first', 'second/at/another/depth'].map((name, i) => {
    const source = join(work, name, 'pause.ts');
    execFileSync('git', ['clone', '--quiet', '--no-checkout', root, source]);
    execFileSync('git', ['-C', source, 'checkout', '--quiet', head]);
    const store = separateStore(join(work, `store-${i}`));
    stores.push(store);
    copyInto(store, builderImage(source));
    const archive = join(work, `build-${i}.oci.tar`);
    process.stderr.write(`image:diff: building ${head.slice(0, 12)} in ${source} (store ${store.dir})...\n`);
    buildInStore(source, store, archive);
    return archive;
  });
  return [results[0]!, results[1]!];
}

if (archives.length !== 0 && archives.length !== 2) fail('give two OCI archives to compare, or none to build HEAD twice');
const work = archives.length === 0 ? mkdtempSync('/var/tmp/pause-image-diff-') : undefined;
const stores: Store[] = [];
try {
  const [a, b] = archives.length === 2 ? [archives[0]!, archives[1]!] : buildTwice(work!, stores);
  const differences = compareArchives(a, b);
  if (differences.length === 0) {
    const index = (JSON.parse(archiveMember(a, 'index.json').toString()) as { manifests: { digest: string }[] }).manifests[0]?.digest;
    process.stdout.write(`image:diff: the same, byte for byte: index ${index}\n`);
  } else {
    process.stdout.write(`image:diff: ${differences.length} difference(s), first build → second:\n${differences.map((line) => `  ${line}\n`).join('')}`);
    process.exitCode = 1;
  }
} catch (error) {
  fail((error as Error).message.split('\n')[0] ?? 'failed');
} finally {
  if (work && !keep) {
    for (const store of stores) store.remove();
    rmSync(work, { recursive: true, force: true });
  }
  else if (work) process.stderr.write(`image:diff: kept ${work}\n`);
}
