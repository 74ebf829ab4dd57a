// Reading an OCI archive (the layout `npm run image` writes as one tar) for
// comparison: its blobs by path, and a layer's files as tar headers say them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** A member of the archive, by path inside it (index.json, blobs/sha256/HEX). */
export function archiveMember(archive: string, path: string): Buffer {
  return execFileSync('tar', ['-xOf', archive, path], { maxBuffer: 2 ** 30 });
}
export const blobPath = (digest: string) => `blobs/${digest.replace(':', '/')}`;

/** One entry of a layer: everything a tar header (and its pax extension) records, and the content's hash. */
export interface TarEntry {
  path: string;
  type: string;
  mode: string;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  size: number;
  mtime: string;
  link: string;
  /** pax records other than path/linkpath/size (times, xattrs). */
  pax: Record<string, string>;
  sha256: string;
}

const text = (block: Buffer, at: number, length: number) => block.subarray(at, at + length).toString('utf8').replace(/\0.*$/s, '');
const octal = (block: Buffer, at: number, length: number) => parseInt(text(block, at, length).trim() || '0', 8);

/** pax extended header records: "LEN key=value\n" each. */
function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString());
    if (!length) break;
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

/** The entries of an uncompressed tar (ustar, with pax and GNU long-name headers), in archive order. */
export function tarEntries(tar: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break;
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] ?? 48);
    const data = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') { pax = paxRecords(data); continue; }
    if (type === 'L') { longName = data.toString('utf8').replace(/\0.*$/s, ''); continue; }
    const prefix = text(header, 345, 155);
    const { path: paxPath, linkpath, size: _size, ...rest } = pax;
    entries.push({
      path: paxPath ?? longName ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100)),
      type: type === '\0' ? '0' : type,
      mode: octal(header, 100, 8).toString(8),
      uid: octal(header, 108, 8),
      gid: octal(header, 116, 8),
      uname: text(header, 265, 32),
      gname: text(header, 297, 32),
      size,
      mtime: rest['mtime'] ?? String(octal(header, 136, 12)),
      link: linkpath ?? text(header, 157, 100),
      pax: Object.fromEntries(Object.entries(rest).filter(([key]) => key !== 'mtime')),
      sha256: createHash('sha256').update(data).digest('hex'),
    });
    pax = {};
    longName = undefined;
  }
  return entries;
}

/** A layer blob's entries (gzip-compressed or not). */
export function layerEntries(archive: string, digest: string): TarEntry[] {
  const blob = archiveMember(archive, blobPath(digest));
  return tarEntries(blob[0] === 0x1f && blob[1] === 0x8b ? gunzipSync(blob) : blob);
}

/**
 * Rewrites an OCI archive so that the file itself, not only the blobs it holds,
 * is the same for the same content: podman writes its tar members with the time
 * of writing. Members sorted by name, dated `epoch`, owned by 0:0, no atime or
 * ctime records (GNU tar). Any tar reader takes it as before.
 */
export function normalizeArchive(archive: string, epoch: number): void {
  const dir = mkdtempSync(join(dirname(archive), '.normalize-'));
  try {
    execFileSync('tar', ['-xf', archive, '-C', dir]);
    const temporary = `${archive}.${process.pid}.tmp`;
    execFileSync('tar', ['--sort=name', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner', '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', dir, '-cf', temporary, ...readdirSync(dir).sort()]);
    renameSync(temporary, archive);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
