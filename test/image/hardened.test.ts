// The pause container under the tightest settings a pod may give it: read-only
// root without a tmpfs, no capabilities, no new privileges, user 65535.
import { beforeAll, describe, expect, it } from 'vitest';
import { isPauseModeReady } from '../helpers/pid1.ts';
import { statusField, waitFor } from '../helpers/process.ts';
import { commandLine, CONTAINER_STORM, hostPid, orphansLeftAfterStorm, runDetached, skipUnless, uniqueName } from './helpers/containers.ts';
import { containerLog, pod } from './helpers/engine.ts';
import { BUSYBOX_IMAGE, ensureImages, IMAGES_TIMEOUT_MS, PAUSE_IMAGE } from './helpers/images.ts';

const skip = skipUnless(['podman', 'runc', 'debootstrap', 'flock']);
const HARDENED = ['--read-only', '--read-only-tmpfs=false', '--cap-drop=ALL', '--security-opt', 'no-new-privileges', '--user', '65535:65535'];

describe.skipIf(skip)('a hardened pause container', () => {
  beforeAll(() => ensureImages(), IMAGES_TIMEOUT_MS);

  it('runs /pause as PID 1 with uid 65535, no capabilities and no new privileges', () => {
    const pid = hostPid(runDetached(uniqueName('hardened'), [...HARDENED, PAUSE_IMAGE]));
    expect({
      command: commandLine(pid),
      pidInside: statusField(pid, 'NSpid')?.split(/\s+/).at(-1),
      uids: statusField(pid, 'Uid'),
      capabilities: statusField(pid, 'CapEff'),
      noNewPrivileges: statusField(pid, 'NoNewPrivs'),
    }).toEqual({ command: '/pause', pidInside: '1', uids: '65535\t65535\t65535\t65535', capabilities: '0000000000000000', noNewPrivileges: '1' });
  });

  it('reaps 1,000 orphans made in a container sharing its PID namespace', async () => {
    const name = runDetached(uniqueName('hardened'), [...HARDENED, PAUSE_IMAGE]);
    const pid = hostPid(name);
    const worker = runDetached(uniqueName('worker'), [`--pid=container:${name}`, BUSYBOX_IMAGE, 'sleep', '3600']);
    const { before, after } = await orphansLeftAfterStorm(pid, (script) => { pod(['exec', worker, 'sh', '-c', script]); });
    expect(after.filter((p) => p.state === 'Z')).toEqual([]);
    expect(after).toHaveLength(before);
  }, CONTAINER_STORM.deadlineMs);

  it('exits 0 on SIGTERM from podman stop, not by the SIGKILL that follows a timeout', async () => {
    const name = runDetached(uniqueName('hardened'), [...HARDENED, PAUSE_IMAGE]);
    // A PID 1 drops a signal it has no handler for: SIGTERM sent during Node's
    // start-up would be lost, and podman would SIGKILL after the timeout.
    const pid = hostPid(name);
    await waitFor('pause to have set up its signals', () => isPauseModeReady(pid));
    pod(['stop', '--time', '30', name]);
    expect(pod(['inspect', '--format', '{{.State.ExitCode}}', name]).trim()).toBe('0');
    expect(containerLog(name)).toContain('Shutting down, got signal: Terminated');
  });
});
