// The density bench (npm run bench:density) keeps working: N = 2 sandboxes of
// our image and of the catatonit peer, end to end through containerd's CRI,
// writes every figure, and leaves nothing behind. No timing is asserted.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProc } from './helpers/process.ts';
import { ROOT } from './helpers/paths.ts';
import { skipUnless } from './image/helpers/containers.ts';
import { ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './image/helpers/images.ts';

type Numbers = Record<string, number>;
interface Results {
  series: { image: string; n: number; runMs: number[]; samples: Numbers[]; stopRemoveMs: number[]; leftovers: string[] }[];
  cold: { image: string; sample: Numbers; leftovers: string[] }[];
  fit: { image: string; limitKb: number | null; cold: boolean; trials: { upMs?: number; stopMs?: number }[] }[];
  made: { cgroupRoot: string; peerImage: string; containerdDirs: string[] };
}

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock', 'containerd', 'ctr', 'containerd-shim-runc-v2', 'catatonit', 'nsenter']);
const IMAGES = ['pause', 'catatonit'];

describe.skipIf(skip)('npm run bench:density with N = 2', () => {
  const out = mkdtempSync(join(tmpdir(), 'pause-density-smoke-'));
  let run: SpawnSyncReturns<string>;
  let results: Results;

  beforeAll(() => {
    ensureImages();
    // A coarse bisection (3 trials each) and a small storm: the smoke run checks the steps, not the figures.
    run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bench/density.ts',
      '--counts', '2', '--image', PAUSE_IMAGE, '--out', out, '--fit-step-kb', '16384', '--orphans', '50'], { cwd: ROOT, encoding: 'utf8', timeout: 600_000 });
    if (existsSync(join(out, 'density.json'))) results = JSON.parse(readFileSync(join(out, 'density.json'), 'utf8')) as Results;
  }, IMAGES_TIMEOUT_MS + 600_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('exits 0 and writes density.md, density.json and the plot', () => {
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(join(out, 'density.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    const md = readFileSync(join(out, 'density.md'), 'utf8');
    for (const heading of ['## Per sandbox', '## In total', '## The first sandbox from a cold page cache', '## The smallest pod it fits', '## Left behind']) expect(md).toContain(heading);
    if (process.getuid?.() === 0) expect(md).toMatch(/\| pause\.ts[^|]*\| \*\*cold\*\* \| [\d.]+ MiB \|/);
    expect(md).toMatch(/load average [\d.]+ [\d.]+ [\d.]+ at the start/);
  });

  it('measures both images: 2 sandboxes each, every figure a number', () => {
    expect(results.series.map((s) => `${s.image} ${s.n}`).sort()).toEqual(IMAGES.map((i) => `${i} 2`).sort());
    for (const s of results.series) {
      expect(s.samples, s.image).toHaveLength(2);
      expect([...s.runMs, ...s.stopRemoveMs].every(Number.isFinite), s.image).toBe(true);
      for (const sample of s.samples) for (const [key, value] of Object.entries(sample)) expect(Number.isFinite(value), `${s.image} ${key}`).toBe(true);
    }
    expect(results.cold.map((c) => c.image).sort()).toEqual([...IMAGES].sort());
    // Our pause is PID 1 of a shared namespace with Node's threads; the peer is one thread.
    expect(results.series.find((s) => s.image === 'catatonit')?.samples.map((x) => x.threads)).toEqual([1, 1]);
  });

  it('finds a memory limit each pause fits in, from a warm page cache and (as root) a cold one', () => {
    const of = (cold: boolean) => results.fit.filter((f) => f.cold === cold).map((f) => f.image).sort();
    expect(of(false)).toEqual([...IMAGES].sort());
    expect(of(true)).toEqual(process.getuid?.() === 0 ? [...IMAGES].sort() : []);
    for (const f of results.fit) {
      expect(f.limitKb, `${f.image}${f.cold ? ' cold' : ''}`).toBeGreaterThan(0);
      // The start and the stop at the limit that fits were both timed.
      const fitting = f.trials.find((t) => 'upMs' in t && 'stopMs' in t);
      expect(Number.isFinite(fitting?.upMs) && Number.isFinite(fitting?.stopMs), `${f.image}${f.cold ? ' cold' : ''}`).toBe(true);
    }
  });

  it('leaves nothing behind: no sandbox, shim, mount, cgroup, containerd, directory or image', () => {
    expect([...results.series, ...results.cold].flatMap((r) => r.leftovers)).toEqual([]);
    const { cgroupRoot, peerImage, containerdDirs } = results.made;
    expect(containerdDirs).toHaveLength(2);
    const hierarchies = readdirSync('/sys/fs/cgroup').map((name) => join('/sys/fs/cgroup', name));
    expect([...hierarchies, '/sys/fs/cgroup'].filter((h) => existsSync(join(h, cgroupRoot)))).toEqual([]);
    expect(containerdDirs.filter((dir) => existsSync(dir))).toEqual([]);
    expect(readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((line) => containerdDirs.some((dir) => line.includes(dir)))).toEqual([]);
    const processes = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))
      .map((pid) => (readProc(`/proc/${pid}/cmdline`) ?? '').split('\0').join(' '))
      .filter((command) => containerdDirs.some((dir) => command.includes(dir)));
    expect(processes).toEqual([]);
    expect(spawnSync('podman', ['image', 'exists', peerImage]).status).toBe(1);
  });
});
