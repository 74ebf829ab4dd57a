// The C pause beside ours: Debian's static catatonit alone in a FROM scratch
// image, run as `catatonit -P` (its pause mode) by uid 65535, as our image runs
// /pause. Built with podman from a generated context; removed by the bench.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Peer {
  image: string;
  /** What it is, exactly, for the results: the binary, its version, its package. */
  what: string;
  remove(): void;
}

function whichCatatonit(): string {
  const found = spawnSync('sh', ['-c', 'command -v catatonit'], { encoding: 'utf8' });
  const path = found.stdout.trim();
  if (found.status !== 0 || !path) throw new Error('catatonit is not installed (apt-get install catatonit): it is the C pause the bench compares with');
  // A FROM scratch image has no loader or libc: the binary must be static.
  if (hasInterpreter(readFileSync(path))) throw new Error(`${path} is dynamically linked, so it cannot run alone in a FROM scratch image`);
  return path;
}

/** Whether a 64-bit little-endian ELF names a program interpreter (a PT_INTERP header): dynamically linked. */
function hasInterpreter(elf: Buffer): boolean {
  if (elf.toString('latin1', 1, 4) !== 'ELF' || elf[4] !== 2 || elf[5] !== 1) throw new Error('not a 64-bit little-endian ELF executable');
  const PT_INTERP = 3;
  const phoff = Number(elf.readBigUInt64LE(0x20)); // e_phoff
  const phentsize = elf.readUInt16LE(0x36); // e_phentsize
  const phnum = elf.readUInt16LE(0x38); // e_phnum
  for (let i = 0; i < phnum; i++) if (elf.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return true;
  return false;
}

function describe(path: string): string {
  const version = spawnSync(path, ['--version'], { encoding: 'utf8' });
  const dpkg = spawnSync('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'catatonit'], { encoding: 'utf8' });
  const packaged = dpkg.status === 0 ? `Debian package ${dpkg.stdout.trim()}` : 'not from a Debian package';
  return `${path} (${`${version.stdout}${version.stderr}`.split('\n')[0]?.trim()}; ${packaged}; static) as \`catatonit -P\`, uid 65535, in a FROM scratch image`;
}

export function buildPeer(tag: string): Peer {
  const path = whichCatatonit();
  const work = mkdtempSync('/var/tmp/pause-density-peer-');
  try {
    copyFileSync(path, join(work, 'catatonit'));
    writeFileSync(join(work, 'Containerfile'), [
      'FROM scratch',
      'COPY catatonit /catatonit',
      'USER 65535:65535',
      'ENTRYPOINT ["/catatonit", "-P"]',
      '',
    ].join('\n'));
    execFileSync('podman', ['build', '--pull=never', '--layers=false', '--force-rm', '--quiet', '--tag', tag, work], { stdio: ['ignore', 'ignore', 'pipe'] });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return {
    image: tag,
    what: describe(path),
    remove: () => { spawnSync('podman', ['rmi', '--force', tag], { stdio: 'ignore' }); },
  };
}
