// What differs between two OCI archives of the image, said as a person looks
// for it: the index, then each platform's manifest, config (field by field)
// and layers (file by file, every tar header field). Pure reading; no engine.
import { archiveMember, blobPath, layerEntries, type TarEntry } from './oci-layout.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const show = (value: Json | undefined) => {
  const text = value === undefined ? '(absent)' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
};

/** Each leaf where `a` and `b` differ, as `path: a → b`. */
export function jsonDifferences(a: Json | undefined, b: Json | undefined, path = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObject = (v: Json | undefined): v is { [key: string]: Json } | Json[] => typeof v === 'object' && v !== null;
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) return [`${path || '(whole)'}: ${show(a)} → ${show(b)}`];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const child = (key: string) => Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
  const at = (v: { [key: string]: Json } | Json[], key: string) => (v as Record<string, Json>)[key];
  return keys.flatMap((key) => jsonDifferences(at(a, key), at(b, key), child(key)));
}

const json = (archive: string, path: string) => JSON.parse(archiveMember(archive, path).toString('utf8')) as Json;
const field = (value: Json, key: string) => (value as Record<string, Json>)[key];
interface Descriptor { digest: string; platform?: { architecture: string; variant?: string } }

/** The files of two layers that differ, each with the header fields (or content) that do. */
export function layerDifferences(a: TarEntry[], b: TarEntry[]): string[] {
  const byPath = (entries: TarEntry[]) => new Map(entries.map((entry) => [entry.path, entry]));
  const [left, right] = [byPath(a), byPath(b)];
  const lines: string[] = [];
  for (const path of new Set([...left.keys(), ...right.keys()])) {
    const [x, y] = [left.get(path), right.get(path)];
    if (!x || !y) { lines.push(`${path}: only in the ${x ? 'first' : 'second'}`); continue; }
    const fields = jsonDifferences(x as unknown as Json, y as unknown as Json).map((line) => line.replace(/^sha256:.*/, 'content differs'));
    if (fields.length > 0) lines.push(`${path}: ${fields.join('; ')}`);
  }
  const order = (entries: TarEntry[]) => entries.map((entry) => entry.path).join('\n');
  if (lines.length === 0 && order(a) !== order(b)) lines.push('the same files in a different order');
  return lines;
}

/** Everything that differs between two archives' images; empty when they are byte for byte the same. */
export function compareArchives(a: string, b: string): string[] {
  const lines = jsonDifferences(json(a, 'index.json'), json(b, 'index.json')).map((line) => `index.json ${line}`);
  const indexDigest = (archive: string) => (field(json(archive, 'index.json'), 'manifests') as unknown as Descriptor[])[0]!.digest;
  const [indexA, indexB] = [indexDigest(a), indexDigest(b)];
  if (indexA === indexB) return lines;
  const indexes = [json(a, blobPath(indexA)), json(b, blobPath(indexB))] as const;
  lines.push(...jsonDifferences(indexes[0], indexes[1]).map((line) => `index ${line}`));
  const entries = (index: Json) => field(index, 'manifests') as unknown as Descriptor[];
  for (const [i, entryA] of entries(indexes[0]).entries()) {
    const entryB = entries(indexes[1])[i];
    const name = [entryA.platform?.architecture, entryA.platform?.variant].filter(Boolean).join('/');
    if (!entryB || entryA.digest === entryB.digest) continue;
    const [manifestA, manifestB] = [json(a, blobPath(entryA.digest)), json(b, blobPath(entryB.digest))];
    const configDigest = (manifest: Json) => (field(manifest, 'config') as unknown as Descriptor).digest;
    if (configDigest(manifestA) !== configDigest(manifestB)) {
      const fields = jsonDifferences(json(a, blobPath(configDigest(manifestA))), json(b, blobPath(configDigest(manifestB))));
      lines.push(...fields.map((line) => `${name} config ${line}`));
    }
    const layers = (manifest: Json) => (field(manifest, 'layers') as unknown as Descriptor[]).map((layer) => layer.digest);
    const [layersA, layersB] = [layers(manifestA), layers(manifestB)];
    if (layersA.length !== layersB.length) lines.push(`${name}: ${layersA.length} layers → ${layersB.length}`);
    for (const [n, digest] of layersA.entries()) {
      if (!layersB[n] || digest === layersB[n]) continue;
      const files = layerDifferences(layerEntries(a, digest), layerEntries(b, layersB[n]));
      lines.push(...(files.length > 0 ? files.map((line) => `${name} layer ${n + 1} ${line}`) : [`${name} layer ${n + 1}: the same files, compressed differently (${digest} → ${layersB[n]})`]));
    }
    if (lines.length === 0) lines.push(`${name} manifest: ${jsonDifferences(manifestA, manifestB).join('; ')}`);
  }
  return lines;
}
