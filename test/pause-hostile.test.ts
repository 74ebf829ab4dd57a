// Pause mode where containerd puts it: uid 65535, a read-only root that holds
// nothing but the executable and its libraries, no /tmp, no /proc, no /dev.
// Anything written at start-up fails there with EROFS.
import { chmodSync, copyFileSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copyLoadsInto } from '../scripts/elf.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAUSE } from './helpers/paths.ts';
import { inNamespaceArgs, isPauseModeReady } from './helpers/pid1.ts';
import { orphanStormScript } from './helpers/workload.ts';
import { childrenOf, exeOf, isAlive, isZombie, run, start, statusField, waitFor } from './helpers/process.ts';

let rootfs: string;

beforeAll(() => {
  rootfs = mkdtempSync(join(tmpdir(), 'pause-rootfs-'));
  chmodSync(rootfs, 0o755); // uid 65535 must be able to walk into it
  copyFileSync(PAUSE, join(rootfs, 'pause'));
  copyLoadsInto(PAUSE, rootfs);
});

afterAll(() => rmSync(rootfs, { recursive: true, force: true }));

describe('pause mode in a read-only, empty root as uid 65535', () => {
  it('runs, reaps orphans and stops on SIGTERM', async () => {
    // A private mount namespace, where the root is bind-mounted read-only
    // over itself, then chroot into it as 65535:65535, as PID 1.
    const script = `mount --bind ${rootfs} ${rootfs} && mount -o remount,bind,ro ${rootfs} && exec chroot --userspec=65535:65535 ${rootfs} /pause`;
    const pause = start('unshare', ['--mount', '--pid', '--fork', 'sh', '-c', script]);
    const pid = await waitFor('pause under chroot', () => {
      const [inner] = childrenOf(pause.pid);
      return inner !== undefined && exeOf(inner)?.endsWith('/pause') && isPauseModeReady(inner) ? inner : undefined;
    });
    expect(statusField(pid, 'Uid')?.split(/\s+/)).toEqual(['65535', '65535', '65535', '65535']);
    expect(readlinkSync(`/proc/${pid}/root`)).toBe(rootfs);

    const [command, args] = inNamespaceArgs(pid, orphanStormScript(500));
    expect((await run(command, args)).code).toBe(0);
    await waitFor('no zombie left', () => childrenOf(pid).filter(isZombie).length === 0, 1000);
    expect(isAlive(pid)).toBe(true);

    process.kill(pid, 'SIGTERM');
    const { code } = await pause.exited;
    expect(code).toBe(0);
    expect(pause.stderr()).toBe('Shutting down, got signal: Terminated\n');
  });
});
